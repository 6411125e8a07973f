"""What the XNAT contract server serves: the real recorded responses and documents in
`../shared/data/xnat/`, and generated sites in the same shapes for volume.

Recorded (`recorded_site()`):
- project `TEST_Viewer`: the subject and experiment `ResultSet`s recorded from a production XNAT
  (OHIF's test data), byte for byte at their recorded paths; at the project-level paths the same
  rows, with `subject_ID` added as the `columns` parameter adds it. Its CT session's scans come
  from XNAT's own DICOM extraction of a CT series (`dicom_extraction_ctSeriesAttributes.json`),
  written as XNAT writes a session document.
- project `NRG_TESTS`: XNAT's REST test payloads served as experiment documents as they are:
  `test_expt_v1.xml`, `test_expt_v2.xml`, `test_expt_bad_date.xml` (a year where a date goes),
  `test_expt_bad_URI.xml` (a resource URI with a space), pyxnat's `sess.xml` (GE scanner, field
  strength, `dcmPatient*` elements, no scans), and a session built from XNAT's DICOM extraction
  of an MR session and series (with the patient's name, ID and birth date in it). Subjects carry
  the demographics of `test_subject_v1..v3.xml`; scan listings are derived from the documents.
- project `HOSTILE` (with `hostile=True`): documents that are a billion-laughs bomb, an external
  entity, not XML, and an XML document that is not an XNAT experiment.

Generated (`GeneratedSite`): `projects` projects, `sessions` image sessions over them (MR, CT,
PET), two sessions a subject, `scans` scans in all; every number a string, some fields empty,
labels that look like hospital numbers. Rows and documents are computed on request, so a site of
200,000 scans costs no memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "xnat"
NRG = DATA / "nrg-xnat-rest-tests"
Row = dict[str, Any]
XNAT_NS = (
    'xmlns:xnat="http://nrg.wustl.edu/xnat" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
# Identifiers planted in the data: none may ever reach a record.
PHI = ("Sample Patient", "Sample ID", "1975-12-31", "1991-04-30", "QIN-HEADNECK-01-0003")


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


def _project(site: StaticSite, project: str, access: str, name: str = "") -> None:
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


def _scan_row(experiment: str, scan_id: str, fields: dict[str, str]) -> Row:
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


def _scans_of(document: bytes) -> list[dict[str, str]]:
    """The scan listing fields of a recorded document (read with our test's own parser)."""
    root = etree.fromstring(document, etree.XMLParser(resolve_entities=False))
    ns = {"xnat": "http://nrg.wustl.edu/xnat"}
    xsi = "{http://www.w3.org/2001/XMLSchema-instance}type"
    return [
        {
            "ID": scan.get("ID"),
            "type": scan.get("type", ""),
            "xsiType": scan.get(xsi, ""),
            "quality": scan.findtext("xnat:quality", "", ns),
            "series_description": scan.findtext("xnat:series_description", "", ns),
        }
        for scan in root.iterfind("xnat:scans/xnat:scan", ns)
    ]


def recorded_site(*, hostile: bool = False) -> StaticSite:
    site = StaticSite()
    _ohif(site)
    _nrg(site)
    if hostile:
        _hostile(site)
    return site


def _ohif(site: StaticSite) -> None:
    subjects_raw = (DATA / "ohif-recorded" / "TEST_Viewer_subjects.json").read_bytes()
    experiments_raw = (
        DATA / "ohif-recorded" / "TEST_Viewer_XNAT_JPETTS_S00032_experiments.json"
    ).read_bytes()
    _project(site, "TEST_Viewer", "public", "TEST Viewer")
    site.raw_paths["/data/archive/projects/TEST_Viewer/subjects"] = subjects_raw
    site.raw_paths["/data/archive/projects/TEST_Viewer/subjects/XNAT_JPETTS_S00032/experiments"] = (
        experiments_raw
    )
    site.subject_rows["TEST_Viewer"] = json.loads(subjects_raw)["ResultSet"]["Result"]
    for row in json.loads(experiments_raw)["ResultSet"]["Result"]:
        site.experiment_rows["TEST_Viewer"].append({**row, "subject_ID": "XNAT_JPETTS_S00032"})
    ct = json.loads((NRG / "dicom_extraction_ctSeriesAttributes.json").read_text())
    ct["xsiType"] = "xnat:ctScanData"
    site.documents["XNAT_JPETTS_E00039"] = session_document("CTSession", {"modality": "CT"}, [ct])
    site.scan_rows["XNAT_JPETTS_E00039"] = [_scan_row("XNAT_JPETTS_E00039", ct["ID"], ct)]
    pet = {"ID": "1", "type": "PET AC", "xsiType": "xnat:petScanData", "quality": "usable"}
    site.documents["XNAT_JPETTS_E00037"] = session_document(
        "PETSession", {"modality": "PET"}, [pet]
    )
    site.scan_rows["XNAT_JPETTS_E00037"] = [_scan_row("XNAT_JPETTS_E00037", "1", pet)]


def _nrg_subjects(site: StaticSite) -> None:
    ns = {"xnat": "http://nrg.wustl.edu/xnat"}
    for n in (1, 2, 3):
        root = etree.fromstring((NRG / f"test_subject_v{n}.xml").read_bytes())
        demographics = root.find("xnat:demographics", ns)
        site.subject_rows["NRG_TESTS"].append(
            {
                "ID": f"NRG_S0{n}",
                "label": f"NRG-SUBJECT-{n}",
                "project": "NRG_TESTS",
                "gender": demographics.findtext("xnat:gender", "", ns),
                "dob": demographics.findtext("xnat:dob", "", ns) if n != 2 else "",
                "yob": "" if n != 2 else "1990",
                "group": root.get("group", ""),
                "insert_date": f"2020-01-0{n} 10:00:00.0",
                "URI": f"/data/subjects/NRG_S0{n}",
            }
        )


def _nrg(site: StaticSite) -> None:
    _project(site, "NRG_TESTS", "private", "XNAT REST tests")
    _nrg_subjects(site)
    mr_session = json.loads((NRG / "dicom_extraction_mrSessionAttributes.json").read_text())
    mr_series = json.loads((NRG / "dicom_extraction_mrSeriesAttributes.json").read_text())
    mr_series["xsiType"] = "xnat:mrScanData"
    documents = {
        "NRG_E01": (NRG / "test_expt_v1.xml").read_bytes(),
        "NRG_E02": (NRG / "test_expt_v2.xml").read_bytes(),
        "NRG_E03": (NRG / "test_expt_bad_date.xml").read_bytes(),
        "NRG_E04": (NRG / "test_expt_bad_URI.xml").read_bytes(),
        "NRG_E05": (DATA / "pyxnat" / "sess.xml").read_bytes(),
        "NRG_E06": session_document("MRSession", {**mr_session, "label": "Sample ID"}, [mr_series]),
    }
    for n, (experiment, document) in enumerate(documents.items(), start=1):
        root = etree.fromstring(document)
        site.documents[experiment] = document
        site.scan_rows[experiment] = [
            _scan_row(experiment, s["ID"], s) for s in _scans_of(document)
        ]
        date = root.findtext("{http://nrg.wustl.edu/xnat}date") or ""
        site.experiment_rows["NRG_TESTS"].append(
            {
                "ID": experiment,
                "label": root.get("label") or experiment,
                "project": "NRG_TESTS",
                "xsiType": "xnat:mrSessionData",
                "date": date if len(date) == 10 else "",
                "subject_ID": f"NRG_S0{(n - 1) % 3 + 1}",
                "insert_date": f"2021-02-{n:02d} 09:00:00.{n}",
                "URI": f"/data/experiments/{experiment}",
            }
        )


HOSTILE_DOCUMENTS = {
    "HOST_E1": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<xnat:MRSession xmlns:xnat="http://nrg.wustl.edu/xnat"><xnat:date>&lol4;</xnat:date></xnat:MRSession>""",
    "HOST_E2": b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xnat:MRSession xmlns:xnat="http://nrg.wustl.edu/xnat">
<xnat:scanner manufacturer="&xxe;"/></xnat:MRSession>""",
    "HOST_E3": b"<xnat:MRSession xmlns:xnat='http://nrg.wustl.edu/xnat'><xnat:scans><xnat:scan",
    "HOST_E4": b"<html><body>not an experiment</body></html>",
}


def _hostile(site: StaticSite) -> None:
    _project(site, "HOSTILE", "public")
    site.subject_rows["HOSTILE"].append({"ID": "HOST_S1", "label": "HOST-1", "project": "HOSTILE"})
    for n, (experiment, document) in enumerate(HOSTILE_DOCUMENTS.items(), start=1):
        site.documents[experiment] = document
        site.scan_rows[experiment] = [
            _scan_row(experiment, "1", {"type": "T1", "xsiType": "xnat:mrScanData"})
        ]
        site.experiment_rows["HOSTILE"].append(
            {
                "ID": experiment,
                "label": f"HOST-1-{n}",
                "xsiType": "xnat:mrSessionData",
                "date": "2022-03-04",
                "subject_ID": "HOST_S1",
                "insert_date": f"2022-03-04 08:00:0{n}.000",
            }
        )


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
            _scan_row(experiment, s["ID"], s)
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
