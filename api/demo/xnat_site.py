"""What the XNAT contract server (`api.demo.xnat_server`) serves: a `Site` answers the listings
and documents of XNAT's REST API as XNAT shapes them (every number a string, some fields empty).

- `StaticSite`: rows and documents held in memory (`add_project`, `scan_row` and
  `session_document` write them in XNAT's shapes); the tests load the recorded real responses of
  `../shared/data/xnat` into one, the demo its generated population.
- `GeneratedSite`: `projects` projects, `sessions` image sessions over them (MR, CT, PET), two
  sessions a subject, `scans` scans in all; labels that look like hospital numbers. Rows and
  documents are computed on request, so a site of 200,000 scans costs no memory (the benchmark's).
- `Sites`: several sites served as one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from xml.sax.saxutils import escape, quoteattr

Row = dict[str, Any]
XNAT_NS = (
    'xmlns:xnat="http://nrg.wustl.edu/xnat" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


class Site(Protocol):
    def projects(self) -> list[Row]: ...
    def accessibility(self, project: str) -> str | None: ...
    def subjects(self, project: str) -> list[Row] | None: ...
    def experiments(self, project: str) -> list[Row] | None: ...
    def scans(self, experiment: str) -> list[Row] | None: ...
    def document(self, experiment: str) -> bytes | None: ...
    def raw(self, path: str) -> bytes | None: ...


@dataclass
class StaticSite:
    """A site held in memory."""

    project_rows: list[Row] = field(default_factory=list)
    access: dict[str, str] = field(default_factory=dict)
    subject_rows: dict[str, list[Row]] = field(default_factory=dict)
    experiment_rows: dict[str, list[Row]] = field(default_factory=dict)
    scan_rows: dict[str, list[Row]] = field(default_factory=dict)
    documents: dict[str, bytes] = field(default_factory=dict)
    raw_paths: dict[str, bytes] = field(default_factory=dict)

    def projects(self) -> list[Row]:
        return self.project_rows

    def accessibility(self, project: str) -> str | None:
        return self.access.get(project)

    def subjects(self, project: str) -> list[Row] | None:
        return self.subject_rows.get(project)

    def experiments(self, project: str) -> list[Row] | None:
        return self.experiment_rows.get(project)

    def scans(self, experiment: str) -> list[Row] | None:
        return self.scan_rows.get(experiment)

    def document(self, experiment: str) -> bytes | None:
        return self.documents.get(experiment)

    def raw(self, path: str) -> bytes | None:
        return self.raw_paths.get(path)


def add_project(site: StaticSite, project: str, access: str, name: str = "") -> None:
    site.project_rows.append(
        {
            "ID": project,
            "secondary_ID": project,
            "name": name or project,
            "description": "",
            "pi_firstname": "",
            "pi_lastname": "",
            "URI": f"/data/projects/{project}",
        }
    )
    site.access[project] = access
    site.subject_rows.setdefault(project, [])
    site.experiment_rows.setdefault(project, [])


def scan_row(experiment: str, scan_id: str, fields: dict[str, str]) -> Row:
    """A scan listing row with XNAT's default columns (no detail)."""
    return {
        "xnat_imagescandata_id": str(abs(hash((experiment, scan_id))) % 100000),
        "ID": scan_id,
        "type": fields.get("type", ""),
        "series_description": fields.get("series_description", ""),
        "quality": fields.get("quality", ""),
        "xsiType": fields.get("xsiType", ""),
        "note": "",
        "URI": f"/data/experiments/{experiment}/scans/{scan_id}",
    }


def session_document(tag: str, session: dict[str, Any], scans: list[dict[str, Any]]) -> bytes:
    """An experiment document as XNAT writes one, from XNAT field paths (`parameters/tr`,
    `scanner/manufacturer`, `parameters/voxelRes/x`, ...)."""
    attrs = " ".join(
        f"{k}={quoteattr(str(session[k]))}" for k in ("label", "modality") if k in session
    )
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?>\n<xnat:{tag} ID="" project="" {attrs} {XNAT_NS}>'
    ]
    for name in ("date", "time", "dcmPatientId", "dcmPatientName", "dcmPatientBirthDate"):
        if name in session:
            parts.append(f"<xnat:{name}>{escape(str(session[name]))}</xnat:{name}>")
    parts.append(_scanner(session))
    if "fieldStrength" in session:
        parts.append(f"<xnat:fieldStrength>{session['fieldStrength']}</xnat:fieldStrength>")
    parts.append("<xnat:scans>")
    for scan in scans:
        parts.append(_scan_element(scan))
    parts.append(f"</xnat:scans></xnat:{tag}>")
    return "\n".join(parts).encode()


def _scanner(fields: dict[str, Any]) -> str:
    manufacturer, model = fields.get("scanner/manufacturer"), fields.get("scanner/model")
    if manufacturer is None and model is None:
        return ""
    attrs = " ".join(
        f"{k}={quoteattr(str(v))}"
        for k, v in (("manufacturer", manufacturer), ("model", model))
        if v
    )
    return f"<xnat:scanner {attrs}>{escape(str(fields.get('scanner', '')))}</xnat:scanner>"


def _scan_element(scan: dict[str, Any]) -> str:
    scan_id, scan_type = quoteattr(str(scan["ID"])), quoteattr(str(scan.get("type", "")))
    head = f'<xnat:scan ID={scan_id} type={scan_type} xsi:type="{scan["xsiType"]}">'
    body = [head]
    for name in ("quality", "series_description", "modality", "frames", "fieldStrength", "UID"):
        if name in scan:
            body.append(f"<xnat:{name}>{escape(str(scan[name]))}</xnat:{name}>")
    body.append(_scanner(scan))
    params = {
        k.removeprefix("parameters/"): v for k, v in scan.items() if k.startswith("parameters/")
    }
    if params:
        body.append("<xnat:parameters>")
        for pair in ("voxelRes", "fov"):
            axes = {a: params.pop(f"{pair}/{a}") for a in "xyz" if f"{pair}/{a}" in params}
            if axes:
                body.append(
                    f"<xnat:{pair} " + " ".join(f'{a}="{v}"' for a, v in axes.items()) + "/>"
                )
        for name, value in params.items():
            if "/" not in name:
                body.append(f"<xnat:{name}>{escape(str(value))}</xnat:{name}>")
        body.append("</xnat:parameters>")
    body.append("</xnat:scan>")
    return "".join(body)


_KINDS = (("MR", "mr"),) * 7 + (("CT", "ct"),) * 2 + (("PET", "pet"),)
_MR_SCANS = (  # type, TR, TE, TI, flip
    ("T1_MPRAGE", "2300", "2.98", "900", "9"),
    ("T2_FLAIR", "9000", "81", "2500", "150"),
    ("DWI", "5000", "90", "", "90"),
    ("BOLD_rest", "2000", "30", "", "77"),
    ("T2_TSE", "4000", "100", "", "150"),
)
_SCANNERS = (("SIEMENS", "Prisma_fit", "3.0"), ("GE MEDICAL SYSTEMS", "DISCOVERY MR750w", "3.0"),
             ("Philips", "Ingenia", "1.5"))  # fmt: skip


@dataclass(frozen=True)
class GeneratedSite:
    """A deterministic site computed on request (see the module's docstring)."""

    n_projects: int = 3
    n_sessions: int = 30
    n_scans: int = 300

    def _per_project(self) -> int:
        return max(1, self.n_sessions // self.n_projects)

    def projects(self) -> list[Row]:
        return [
            {
                "ID": f"GEN{p:04d}",
                "secondary_ID": f"G{p}",
                "name": f"Generated study {p}",
                "description": "" if p % 2 else f"A generated imaging study, number {p}",
                "pi_firstname": "",
                "pi_lastname": "",
                "URI": f"/data/projects/GEN{p:04d}",
            }
            for p in range(self.n_projects)
        ]

    def _project(self, project: str) -> int | None:
        if not project.startswith("GEN") or not project[3:].isdigit():
            return None
        p = int(project[3:])
        return p if p < self.n_projects else None

    def accessibility(self, project: str) -> str | None:
        p = self._project(project)
        return None if p is None else ("public", "protected", "private")[p % 3]

    def subjects(self, project: str) -> list[Row] | None:
        p = self._project(project)
        if p is None:
            return None
        return [self._subject(p, s) for s in range((self._per_project() + 1) // 2)]

    def _subject(self, p: int, s: int) -> Row:
        return {
            "ID": f"GEN_S{p:04d}_{s:05d}",
            "label": f"MRN{p:04d}{s:05d}",
            "project": f"GEN{p:04d}",
            "gender": ("male", "female", "", "M", "F")[s % 5],
            "dob": f"19{50 + s % 40}-{1 + s % 12:02d}-{1 + s % 28:02d}" if s % 3 == 0 else "",
            "yob": str(1950 + s % 45) if s % 3 == 1 else "",
            "group": ("control", "patient", "")[s % 3],
            "insert_date": f"2015-01-01 00:00:00.{s % 1000:03d}",
            "URI": f"/data/subjects/GEN_S{p:04d}_{s:05d}",
        }

    def experiments(self, project: str) -> list[Row] | None:
        p = self._project(project)
        if p is None:
            return None
        per = self._per_project()
        return [self._experiment(p, k, p * per + k) for k in range(per)]

    def _experiment(self, p: int, k: int, g: int) -> Row:
        modality, kind = _KINDS[g % len(_KINDS)]
        minutes = g * 7 % 1_000_000  # insert dates spread, not in project order
        return {
            "ID": f"GEN_E{g:07d}",
            "label": f"MRN{p:04d}{k // 2:05d}_{modality}{k % 2}",
            "project": f"GEN{p:04d}",
            "xsiType": f"xnat:{kind}SessionData",
            "date": f"{2010 + g % 14}-{1 + g % 12:02d}-{1 + g % 28:02d}",
            "age": "",
            "subject_ID": f"GEN_S{p:04d}_{k // 2:05d}",
            "insert_date": f"2016-{1 + minutes // 44640 % 12:02d}-{1 + minutes // 1440 % 28:02d} "
            f"{minutes // 60 % 24:02d}:{minutes % 60:02d}:00.{g % 1000:03d}",
            "last_modified": "",
            "URI": f"/data/experiments/GEN_E{g:07d}",
        }

    def _session(self, experiment: str) -> int | None:
        if not experiment.startswith("GEN_E") or not experiment[5:].isdigit():
            return None
        g = int(experiment[5:])
        return g if g < self._per_project() * self.n_projects else None

    def _scan_count(self, g: int) -> int:
        sessions = self._per_project() * self.n_projects
        return self.n_scans // sessions + (1 if g < self.n_scans % sessions else 0)

    def _scan(self, g: int, j: int) -> dict[str, Any]:
        modality, kind = _KINDS[g % len(_KINDS)]
        manufacturer, model, tesla = _SCANNERS[g % len(_SCANNERS)]
        scan: dict[str, Any] = {
            "ID": str(j + 1),
            "xsiType": f"xnat:{kind}ScanData",
            "quality": ("usable", "usable", "questionable", "")[j % 4],
            "frames": str(20 + (g + j) % 200),
            "scanner/manufacturer": manufacturer,
            "scanner/model": model,
            "parameters/voxelRes/x": "1.0",
            "parameters/voxelRes/y": "1.0",
            "parameters/voxelRes/z": ("1.0", "1.25", "3")[j % 3],
        }
        if modality == "MR":
            kind_name, tr, te, ti, flip = _MR_SCANS[j % len(_MR_SCANS)]
            scan |= {
                "type": kind_name,
                "series_description": kind_name.replace("_", " "),
                "fieldStrength": tesla,
                "parameters/tr": tr,
                "parameters/te": te,
                "parameters/flip": flip,
                "parameters/imageType": "ORIGINAL\\PRIMARY\\M",
            }
            if ti:
                scan["parameters/ti"] = ti
        else:
            name = ("CT_ABDOMEN", "CT_CHEST")[j % 2] if modality == "CT" else "PET_AC"
            scan |= {"type": name, "series_description": name.replace("_", " ").lower(),
                     "parameters/imageType": "ORIGINAL\\PRIMARY\\AXIAL"}  # fmt: skip
        return scan

    def scans(self, experiment: str) -> list[Row] | None:
        g = self._session(experiment)
        if g is None:
            return None
        return [
            scan_row(experiment, s["ID"], s)
            for s in (self._scan(g, j) for j in range(self._scan_count(g)))
        ]

    def document(self, experiment: str) -> bytes | None:
        g = self._session(experiment)
        if g is None:
            return None
        modality, _kind = _KINDS[g % len(_KINDS)]
        manufacturer, model, tesla = _SCANNERS[g % len(_SCANNERS)]
        session = {
            "modality": modality,
            "scanner/manufacturer": manufacturer,
            "scanner/model": model,
        }
        if modality == "MR":
            session["fieldStrength"] = tesla
        scans = [self._scan(g, j) for j in range(self._scan_count(g))]
        return session_document(f"{modality}Session", session, scans)

    def raw(self, path: str) -> bytes | None:
        return None


@dataclass
class Sites:
    """Several sites served as one (a recorded one and a generated one side by side)."""

    parts: tuple[Site, ...]

    def projects(self) -> list[Row]:
        return [row for part in self.parts for row in part.projects()]

    def _first(self, method: str, key: str) -> Any:
        for part in self.parts:
            found = getattr(part, method)(key)
            if found is not None:
                return found
        return None

    def accessibility(self, project: str) -> str | None:
        return self._first("accessibility", project)  # type: ignore[no-any-return]

    def subjects(self, project: str) -> list[Row] | None:
        return self._first("subjects", project)  # type: ignore[no-any-return]

    def experiments(self, project: str) -> list[Row] | None:
        return self._first("experiments", project)  # type: ignore[no-any-return]

    def scans(self, experiment: str) -> list[Row] | None:
        return self._first("scans", experiment)  # type: ignore[no-any-return]

    def document(self, experiment: str) -> bytes | None:
        return self._first("document", experiment)  # type: ignore[no-any-return]

    def raw(self, path: str) -> bytes | None:
        return self._first("raw", path)  # type: ignore[no-any-return]
