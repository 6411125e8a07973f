"""XNAT rows and documents to records: project -> collection, subject -> subject, experiment ->
study, scan -> series.

XNAT sends numbers as strings (or numbers), empty strings for unknown values, and dates as
`YYYY-MM-DD`. Labels are identifiers (sites label subjects and sessions with hospital numbers):
no label is ever copied into a record, and the free-text fields that are copied (scan type,
series description) have the subject's and session's labels cut out. Dates become a year and an
age; a date of birth gives only a year of birth.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from catalogue.models import Sex, Visibility
from catalogue.records import CollectionRecord, Cursor, SeriesRecord, StudyRecord, SubjectRecord

AGE_CAP = 90.0  # ages of 90 and over are one group (HIPAA safe harbour), as for DICOM
REDACTED = "[removed]"
MAX_TEXT = 256
_SEX = {"m": Sex.MALE, "male": Sex.MALE, "f": Sex.FEMALE, "female": Sex.FEMALE}
_SEX |= {"o": Sex.OTHER, "other": Sex.OTHER}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_XSI_TYPE = re.compile(r"xnat:(\w+?)(?:Scan|Session)Data")
# xsiType of a scan (or, lacking scans' own, of the session) -> DICOM modality.
MODALITIES = {
    "mr": "MR", "ct": "CT", "pet": "PT", "pt": "PT", "nm": "NM", "us": "US", "cr": "CR",
    "dx": "DX", "mg": "MG", "xa": "XA", "rf": "RF", "io": "IO", "op": "OP", "opt": "OPT",
    "sr": "SR", "seg": "SEG", "rtimage": "RTIMAGE", "ecg": "ECG", "otherdicom": "OT",
    "sm": "SM", "xc": "XC", "es": "ES", "gm": "GM", "hd": "HD", "meg": "MEG", "eeg": "EEG",
}  # fmt: skip
_PAIR_KEYS = tuple(
    (f"parameters/{pair}/{axis}", f"{pair}_{axis}")
    for pair in ("voxelRes", "fov")
    for axis in "xyz"
)
ANNOTATIONS = frozenset({"SEG", "SR", "RTSTRUCT"})


@dataclass(frozen=True)
class Subject:
    native_id: str  # the pseudonym
    birth: dt.date | None
    birth_year: int | None
    labels: tuple[str, ...]  # for screening free text, never copied


def text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if type(value) is not str:  # (the common case first: this runs ~15 times a scan)
        if value is None or isinstance(value, dict | list):
            return None
        value = str(value)
    return value.strip() or None


def number(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        found = float(value) if type(value) is str else float(str(value))
    except ValueError:
        return None
    return found if math.isfinite(found) else None


def date(value: str | None) -> dt.date | None:
    match = _DATE.fullmatch(value or "")
    try:
        return dt.date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        return None


def stamp(row: Mapping[str, Any]) -> str | None:
    """When XNAT last changed the row (`last_modified`, else `insert_date`), as sortable ISO."""
    for key in ("last_modified", "insert_date"):
        value = text(row, key)
        if value is None:
            continue
        try:
            return dt.datetime.fromisoformat(value).isoformat(timespec="milliseconds")
        except ValueError:
            continue
    return None


def collection(row: Mapping[str, Any], visibility: Visibility, url: str) -> CollectionRecord:
    project = str(row["ID"])
    return CollectionRecord(
        native_id=project,
        title=text(row, "name") or text(row, "secondary_ID") or project,
        description=text(row, "description") or "",
        visibility=visibility,
        access_url=f"{url}/data/projects/{project}",
    )


def subject(row: Mapping[str, Any], native_id: str, project: str) -> tuple[SubjectRecord, Subject]:
    birth = date(text(row, "dob"))
    year = birth.year if birth else _year(text(row, "yob"))
    labels = tuple(v for k in ("label",) if (v := text(row, k)) and len(v) >= 2)
    record = SubjectRecord(
        native_id=native_id,
        collection=project,
        sex=_SEX.get((text(row, "gender") or "").lower(), Sex.UNKNOWN),
        birth_year=year,
        group=_clip(screen(text(row, "group"), labels)),
        deidentification_profile="xnat",
    )
    return record, Subject(native_id, birth, year, labels)


def study(
    row: Mapping[str, Any], who: Subject, session: Mapping[str, str], url: str, cursor: Cursor
) -> StudyRecord:
    experiment = str(row["ID"])
    on = date(text(row, "date")) or date(session.get("date"))
    kind = text(row, "xsiType") or session.get("xsiType") or ""
    return StudyRecord(
        native_id=experiment,
        collection=str(row["project"]),
        subject=who.native_id,
        description=_session_name(kind),
        year=on.year if on else None,
        age_years=age(who, on, number(row.get("age"))),
        access_url=f"{url}/data/experiments/{experiment}",
        cursor=cursor,
        deidentification_profile="xnat",
    )


def series(
    study_record: StudyRecord,
    scan: Mapping[str, Any],
    session: Mapping[str, str],
    labels: tuple[str, ...],
) -> SeriesRecord:
    """`scan`: a scan listing row merged with the document's fields for that scan."""
    scan_id = str(scan["ID"]).strip()
    xsi = text(scan, "xsiType")
    modality = _modality_of(
        text(scan, "modality"), xsi, session.get("xsiType"), session.get("modality")
    )
    field = text(scan, "fieldStrength") or session.get("fieldStrength")
    return SeriesRecord(
        native_id=f"{study_record.native_id}/scans/{scan_id}",
        collection=study_record.collection,
        subject=study_record.subject,
        study=study_record.native_id,
        modality=modality,
        body_part=_clip(text(scan, "bodyPartExamined")),
        series_description=_clip(screen(text(scan, "series_description"), labels)),
        protocol_name=_clip(screen(text(scan, "type"), labels)),
        sequence_name=_clip(text(scan, "parameters/sequence")),
        manufacturer=_clip(
            text(scan, "scanner/manufacturer") or session.get("scanner/manufacturer")
        ),
        model_name=_clip(text(scan, "scanner/model") or session.get("scanner/model")),
        field_strength_t=_tesla(number(field)),
        repetition_time_ms=number(scan.get("parameters/tr")),
        echo_time_ms=number(scan.get("parameters/te")),
        inversion_time_ms=number(scan.get("parameters/ti")),
        flip_angle_deg=number(scan.get("parameters/flip")),
        image_type=_image_type(text(scan, "parameters/imageType")),
        annotations=modality in ANNOTATIONS,
        instance_count=_count(scan.get("frames")),
        year=study_record.year,
        access_url=f"{study_record.access_url}/scans/{scan_id}",
        cursor=study_record.cursor,
        attributes=_attributes(scan, xsi),
        deidentification_profile="xnat",
    )


def age(who: Subject, on: dt.date | None, stated: float | None) -> float | None:
    """Age at the session: XNAT's own `age` column, else from the date (or year) of birth."""
    if stated is not None and 0 <= stated <= 150:
        return min(round(stated, 2), AGE_CAP)
    if on is None:
        return None
    if who.birth is not None:
        if on < who.birth:
            return None
        years = on.year - who.birth.year - ((on.month, on.day) < (who.birth.month, who.birth.day))
        return min(
            float(years) if years >= 1 else round((on - who.birth).days / 365.25, 2), AGE_CAP
        )
    if who.birth_year is not None and 0 <= on.year - who.birth_year <= 150:
        return min(float(on.year - who.birth_year), AGE_CAP)  # +-1: the birthday is unknown
    return None


def screen(value: str | None, labels: tuple[str, ...]) -> str | None:
    """`value` with every occurrence of a label cut out (case-insensitive)."""
    if value is None:
        return None
    lowered = value.lower()
    for label in labels:
        if label.lower() in lowered:  # (rare: no pattern compiled otherwise)
            value = re.sub(re.escape(label), REDACTED, value, flags=re.IGNORECASE)
    return value


@functools.lru_cache(maxsize=1024)  # (a site has a handful of distinct combinations)
def _modality_of(
    stated: str | None, scan_type: str | None, session_type: str | None, session: str | None
) -> str | None:
    for xsi in (scan_type, session_type):
        key = _XSI_TYPE.fullmatch(xsi or "")
        if key and key.group(1).lower() in MODALITIES:
            return MODALITIES[key.group(1).lower()]
    return (stated or session or "").upper()[:16] or None


def _session_name(xsi_type: str) -> str | None:
    key = re.fullmatch(r"xnat:(\w+?)SessionData", xsi_type)
    if key is None:
        return None
    modality = MODALITIES.get(key.group(1).lower(), key.group(1).upper())
    return f"{modality} session"


def _tesla(value: float | None) -> float | None:
    if value is None or value <= 0:
        return None
    value = value / 10_000 if value > 100 else value  # gauss (older GE), as for DICOM
    return round(value, 3) if value <= 30 else None


def _count(value: object) -> int | None:
    found = number(value)
    return int(found) if found is not None and found >= 0 and found.is_integer() else None


def _year(value: str | None) -> int | None:
    found = _count(value)
    return found if found is not None and 1850 <= found <= 2200 else None


@functools.lru_cache(maxsize=1024)
def _image_type(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(part.strip().upper()[:16] for part in value.split("\\") if part.strip())


def _attributes(scan: Mapping[str, Any], xsi: str | None) -> dict[str, Any]:
    """XNAT's quality, scan type class and the numeric parameters a record has no column for."""
    found: dict[str, Any] = {}
    if quality := text(scan, "quality"):
        found["quality"] = quality[:32]
    if xsi:
        found["xnat_type"] = xsi[:64]
    for key, name in _PAIR_KEYS:
        if key in scan and (value := number(scan[key])) is not None:
            found[name] = value
    if orientation := text(scan, "parameters/orientation"):
        found["orientation"] = orientation[:16]
    return found


def _clip(value: str | None) -> str | None:
    return value[:MAX_TEXT] if value else None
