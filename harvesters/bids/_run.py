"""One harvest of a BIDS dataset: records from the layout, re-read only where files changed.

The cursor: {"v": 1, "fp": <settings fingerprint>, "sig": {"<kind>:<native id>": <signature>}}.
A signature is a keyed hash of the (path, size, mtime_ns) of every file a record comes from. A
record whose reading reported a failure gets no signature, so it is read (and reported) again.
"""

from __future__ import annotations

import logging
import os
import re
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from catalogue.records import (
    CollectionRecord,
    Cursor,
    Item,
    RecordKind,
    Seen,
    SeriesRecord,
    StudyRecord,
    SubjectRecord,
)
from harvesters.base import Report
from harvesters.bids import _sidecar, _tables
from harvesters.bids._layout import DataFile, Dataset, Sidecar
from harvesters.bids._nifti import NiftiError, header_fields
from harvesters.dicom.deid import screen_text
from harvesters.pseudonyms import Pseudonymiser

if TYPE_CHECKING:
    from harvesters.bids.harvester import BidsConfig

log = logging.getLogger(__name__)

PROFILE = "bids-1"  # what the records went through: pseudonyms, capped ages, allow-listed sidecars
CURSOR_VERSION = 1
MODALITY = {"anat": "MR", "func": "MR", "dwi": "MR", "fmap": "MR", "perf": "MR", "mrs": "MR",
            "pet": "PT"}  # fmt: skip
_TIME_SERIES = frozenset({"func", "perf"})
_DOI = re.compile(r"(?:https?://doi\.org/|doi:)?10\.\d{4,9}/[-._;()/:a-zA-Z0-9]{1,200}")
_OMITTED_ENTITIES = frozenset({"sub", "ses"})  # labels: pseudonymised, never copied


class Naming:
    """Keyed pseudonyms for subjects, studies, series and file paths."""

    def __init__(self, keys: Pseudonymiser, collection: str, subject_key: str) -> None:
        self.keys, self.collection, self.subject_key = keys, collection, subject_key
        self._known: dict[tuple[str, str, str | None], str] = {}  # subjects and studies repeat

    def subject(self, label: str) -> str:
        if (found := self._known.get(("subject", label, None))) is None:
            key = label if self.subject_key == "label" else f"bids\0{self.collection}\0{label}"
            found = self._known[("subject", label, None)] = self.keys.pseudonym("subject", key)
        return found

    def study(self, subject: str, session: str | None) -> str:
        if (found := self._known.get(("study", subject, session))) is None:
            value = f"{subject}\0{session or ''}"
            found = self._known[("study", subject, session)] = self.keys.pseudonym("study", value)
        return found

    def series(self, relpath: str) -> str:
        return self.keys.pseudonym("series", f"bids\0{self.collection}\0{relpath}")

    def file(self, relpath: str) -> str:
        return self.keys.pseudonym("bids-file", f"{self.collection}\0{relpath}")[:16]

    def signature(self, parts: Any) -> str:
        """Of nested lists and tuples of strings, numbers and None: their repr is stable."""
        return self.keys.pseudonym("bids-signature", repr(parts))[:16]


def old_signatures(since: Cursor | None, fingerprint: str) -> dict[str, str]:
    """The signatures of the last good run; none when there is none or its settings differ."""
    if since is None:
        return {}
    if (
        not isinstance(since, dict)
        or since.get("v") != CURSOR_VERSION
        or not isinstance(sigs := since.get("sig"), dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in sigs.items())
    ):
        log.warning("the BIDS cursor of the last run is not understood; reading every file")
        return {}
    if since.get("fp") != fingerprint:
        log.info("the harvest settings changed since the last run; reading every file")
        return {}
    return sigs


class BidsRun:
    def __init__(
        self,
        config: BidsConfig,
        report: Report,
        naming: Naming,
        old: dict[str, str],
        *,
        base: str,
    ) -> None:
        self.config, self.report, self.naming, self.old = config, report, naming, old
        self.root = str(config.path)
        self.base = base
        self.sigs: dict[str, str] = {}
        self.collection_id = ""
        self._pipelines: dict[int, str] = {}
        self._sidecars: dict[str, dict[str, Any] | str] = {}
        self._participants: tuple[dict[str, _tables.Participant], bool] | None = None
        self._screen = _sidecar.Screen()

    # --- signatures ---------------------------------------------------------------------------

    def _unchanged(self, kind: RecordKind, native_id: str, sig: str) -> bool:
        key = f"{kind}:{native_id}"
        if self.old.get(key) == sig:
            self.sigs[key] = sig
            return True
        return False

    def _keep(self, kind: RecordKind, native_id: str, sig: str, clean: bool) -> None:
        if clean:
            self.sigs[f"{kind}:{native_id}"] = sig

    def cursor(self, fingerprint: str) -> dict[str, Any]:
        return {"v": CURSOR_VERSION, "fp": fingerprint, "sig": self.sigs}

    # --- collection ---------------------------------------------------------------------------

    def collection(self, datasets: Sequence[Dataset], collection_id: str) -> Iterator[Item]:
        self.collection_id = collection_id
        sig = self.naming.signature(["collection", [(d.relroot, d.description) for d in datasets]])
        if self._unchanged("collection", collection_id, sig):
            yield Seen(kind="collection", native_id=collection_id)
            return
        failures = len(self.report.failures)
        description = self._description(datasets[0])
        pipelines = [self._pipeline(n, d) for n, d in enumerate(datasets) if n]
        yield CollectionRecord(
            native_id=collection_id,
            title=self.config.collection
            or _text(description.get("Name"))
            or self.config.path.name
            or collection_id,
            description=_summary(description, pipelines),
            visibility=self.config.visibility,
            access_url=self.base,
        )
        self._keep("collection", collection_id, sig, len(self.report.failures) == failures)

    def _description(self, dataset: Dataset) -> dict[str, Any]:
        where = dataset.path("dataset_description.json")
        if dataset.description is None:
            self.report.failure(
                f"file:{self.naming.file(where)}", "dataset_description.json is missing"
            )
            return {}
        try:
            return _sidecar.load(os.path.join(self.root, where))
        except _sidecar.SidecarError as exc:
            self.report.failure(
                f"file:{self.naming.file(where)}", f"dataset_description.json {exc}"
            )
            return {}

    def _pipeline(self, number: int, dataset: Dataset) -> str:
        """The name of the pipeline that made a derivative dataset (GeneratedBy, else the
        folder's name)."""
        if number not in self._pipelines:
            about = self._description(dataset)
            generated = about.get("GeneratedBy") or [about.get("PipelineDescription")]
            first = generated[0] if isinstance(generated, list) and generated else None
            name = _text(first.get("Name")) if isinstance(first, dict) else None
            self._pipelines[number] = name or dataset.relroot.rsplit("/", 1)[-1]
        return self._pipelines[number]

    # --- subjects -----------------------------------------------------------------------------

    def subjects(self, datasets: Sequence[Dataset]) -> Iterator[Item]:
        raw = datasets[0]
        with_folder = {self.naming.subject(s): s for d in datasets for s in d.subjects}
        tables = self.naming.signature([raw.participants, raw.participants_sidecar])
        candidates = set(with_folder) | {
            k.removeprefix("subject:") for k in self.old if k.startswith("subject:")
        }
        changed: list[str] = []
        for sid in sorted(candidates):
            sig = self.naming.signature(["subject", tables, sid in with_folder])
            if self._unchanged("subject", sid, sig):
                yield Seen(kind="subject", native_id=sid)
            else:
                changed.append(sid)
        if not changed:
            return
        table, clean = self._participant_table(raw)
        by_id = {self.naming.subject(label): p for label, p in table.items()}
        for sid in sorted(set(changed) | (set(by_id) - candidates)):
            if sid not in with_folder and sid not in by_id:
                continue  # gone from both the folders and the table
            sig = self.naming.signature(["subject", tables, sid in with_folder])
            yield _subject_record(sid, self.collection_id, by_id.get(sid))
            self._keep("subject", sid, sig, clean)

    def _participant_table(self, raw: Dataset) -> tuple[dict[str, _tables.Participant], bool]:
        """Participants by label, and whether the table was read without failures."""
        if self._participants is None:
            self._participants = ({}, True)
            if raw.participants is not None:
                self._participants = self._read_participants(raw)
        return self._participants

    def _read_participants(self, raw: Dataset) -> tuple[dict[str, _tables.Participant], bool]:
        failures = len(self.report.failures)
        sidecar = raw.path("participants.json") if raw.participants_sidecar else None
        try:
            table = _tables.participants(
                os.path.join(self.root, raw.path("participants.tsv")),
                os.path.join(self.root, sidecar) if sidecar else None,
                self._columns(),
                self.report.failure,
            )
        except _tables.TableError as exc:
            self.report.failure("participants.tsv", f"participants.tsv {exc}")
            return {}, False
        return table, len(self.report.failures) == failures

    def _columns(self) -> _tables.Columns:
        c = self.config
        return _tables.Columns(
            c.age_column, c.sex_column, c.group_columns, c.diagnosis_columns, c.species_column,
            c.strain_column,
        )  # fmt: skip

    # --- studies ------------------------------------------------------------------------------

    def studies(self, datasets: Sequence[Dataset]) -> Iterator[Item]:
        raw = datasets[0]
        tables = [raw.participants, raw.participants_sidecar]
        keys = sorted({(s, ses) for d in datasets for s, ses in d.studies}, key=_order)
        ages: dict[str, dict[str, float | None] | None] = {}
        for label, session in keys:
            sid = self.naming.subject(label)
            study = self.naming.study(sid, session)
            sig = self.naming.signature(["study", tables, raw.sessions_tables.get(label), session])
            if self._unchanged("study", study, sig):
                yield Seen(kind="study", native_id=study)
                continue
            failures = len(self.report.failures)
            if label not in ages:
                ages[label] = self._session_ages(raw, label, sid)
            age = self._study_age(raw, label, session, ages[label])
            yield StudyRecord(
                native_id=study,
                collection=self.collection_id,
                subject=sid,
                description=screen_text(f"session {session}", max_chars=255) if session else None,
                age_years=age,
                access_url=self._address(_folder(label, session)),
                deidentification_profile=PROFILE,
            )
            clean = len(self.report.failures) == failures and self._participant_table(raw)[1]
            self._keep("study", study, sig, clean)

    def _session_ages(self, raw: Dataset, label: str, sid: str) -> dict[str, float | None] | None:
        if label not in raw.sessions_tables:
            return None
        where = f"subject:{sid}/sessions.tsv"
        path = os.path.join(self.root, raw.path(f"sub-{label}/sub-{label}_sessions.tsv"))
        try:
            return _tables.session_ages(path, self.config.age_column, self.report.failure, where)
        except _tables.TableError as exc:
            self.report.failure(where, f"sessions table {exc}")
            return None

    def _study_age(
        self, raw: Dataset, label: str, session: str | None, ages: dict[str, float | None] | None
    ) -> float | None:
        """Age at the session (sessions table), else the participant's age."""
        if ages is not None and session is not None and ages.get(session) is not None:
            return ages[session]
        participant = self._participant_table(raw)[0].get(label)
        return participant.age_years if participant else None

    # --- series -------------------------------------------------------------------------------

    def series(self, datasets: Sequence[Dataset]) -> Iterator[Item]:
        self._screen = _sidecar.Screen({s for d in datasets for s in d.subjects})
        for dataset in datasets:
            for f in dataset.files:
                yield from self._one_series(f, dataset)

    def _one_series(self, f: DataFile, dataset: Dataset) -> Iterator[Item]:
        series = self.naming.series(f.relpath)
        chain = [(s.relpath, s.stat) for s in f.sidecars]
        sig = self.naming.signature(["series", f.relpath, f.stat, chain, dataset.description])
        if self._unchanged("series", series, sig):
            yield Seen(kind="series", native_id=series)
            return
        merged = self._merged(f, series)
        if merged is None:
            if f"series:{series}" in self.old:  # keep what the catalogue has until it is fixed
                yield Seen(kind="series", native_id=series)
            return
        failures = len(self.report.failures)
        fields = _sidecar.series_fields(merged, self._screen)
        if self.config.nifti_headers and _needs_header(fields, f):
            fields = self._with_header(fields, f, series)
        yield self._series_record(series, f, fields, dataset)
        self._keep("series", series, sig, len(self.report.failures) == failures)

    def _merged(self, f: DataFile, series: str) -> dict[str, Any] | None:
        loaded: list[dict[str, Any]] = []
        for s in f.sidecars:
            value = self._sidecar(s, shared=s.depth < 3 or s.name.entities != f.name.entities)
            if isinstance(value, str):
                self.report.failure(
                    f"series:{series}", f"its sidecar file:{self.naming.file(s.relpath)} {value}"
                )
                return None
            loaded.append(value)
        return _sidecar.merge(loaded)

    def _sidecar(self, s: Sidecar, *, shared: bool) -> dict[str, Any] | str:
        """A sidecar's values, or why it cannot be used. Only sidecars that several images
        inherit are kept: an image's own sidecar is read once, and keeping every one would hold
        the whole dataset's sidecars in memory."""
        value = self._sidecars.get(s.relpath)
        if value is None:
            try:
                value = _sidecar.load(os.path.join(self.root, s.relpath))
            except _sidecar.SidecarError as exc:
                value = str(exc)
            if shared:
                self._sidecars[s.relpath] = value
        return value

    def _with_header(self, fields: dict[str, Any], f: DataFile, series: str) -> dict[str, Any]:
        try:
            header = header_fields(os.path.join(self.root, f.relpath))
        except NiftiError as exc:
            self.report.failure(f"series:{series}", str(exc))
            return fields
        attributes = {**header.pop("attributes"), **fields.get("attributes", {})}
        return {**header, **fields, "attributes": attributes}

    def _series_record(
        self, series: str, f: DataFile, fields: dict[str, Any], dataset: Dataset
    ) -> SeriesRecord:
        subject = self.naming.subject(f.subject)
        entities = {
            k: v for k, v in f.name.entities if k not in _OMITTED_ENTITIES and self._screen(v) == v
        }
        attributes: dict[str, Any] = {
            **fields.pop("attributes", {}),
            "sequence_type": f.name.suffix,
            "bids": {"datatype": f.datatype, "suffix": f.name.suffix, "entities": entities},
        }
        if f.dataset:
            attributes["derivative"] = {"pipeline": self._pipeline(f.dataset, dataset)}
        return SeriesRecord(
            native_id=series,
            collection=self.collection_id,
            subject=subject,
            study=self.naming.study(subject, f.session),
            modality=MODALITY.get(f.datatype),
            access_url=self._address(f.relpath),
            attributes=attributes,
            deidentification_profile=PROFILE,
            **fields,
        )

    def _address(self, relpath: str) -> str:
        if not self.config.series_addresses:
            return self.base
        return f"{self.base}/{urllib.parse.quote(relpath)}"


def _needs_header(fields: dict[str, Any], f: DataFile) -> bool:
    if "slice_thickness_mm" not in fields:
        return True
    return f.datatype in _TIME_SERIES and "repetition_time_ms" not in fields


def _subject_record(sid: str, collection: str, p: _tables.Participant | None) -> SubjectRecord:
    p = p or _tables.Participant()
    return SubjectRecord(
        native_id=sid,
        collection=collection,
        sex=p.sex,
        group=p.group,
        species=p.species,
        strain=p.strain,
        diagnoses=p.diagnoses,
        deidentification_profile=PROFILE,
    )


def _folder(label: str, session: str | None) -> str:
    return f"sub-{label}/ses-{session}" if session else f"sub-{label}"


def _order(key: tuple[str, str | None]) -> tuple[str, str]:
    return key[0], key[1] or ""


def _text(value: Any) -> str | None:
    return screen_text(value, max_chars=255) if isinstance(value, str) else None


def _summary(description: dict[str, Any], pipelines: list[str]) -> str:
    """A description of the collection from dataset_description.json's short, coded fields
    (README and free-text fields are never copied)."""
    kind = _text(description.get("DatasetType")) or "raw"
    version = _text(description.get("BIDSVersion"))
    parts = [f"BIDS {version} {kind} dataset" if version else f"BIDS {kind} dataset"]
    if licence := _text(description.get("License")):
        parts.append(f"licence {licence}")
    doi = description.get("DatasetDOI")
    if isinstance(doi, str) and _DOI.fullmatch(doi.strip()):
        parts.append(f"DOI {doi.strip()}")
    if pipelines:
        parts.append("derivatives: " + ", ".join(sorted(set(pipelines))))
    return "; ".join(parts)
