"""`participants.tsv` and `sub-<label>_sessions.tsv`: the columns configuration names, nothing else.

Every row is checked on its own; a bad row is reported by its number (never its values) and the
others are used. `n/a` is BIDS for "no value". Ages are in years unless the JSON sidecar gives
other units; ages of 90 and over become 90 ("89+" is how BIDS writes a capped age), as the
DICOM de-identification reduces them (PS3.15 spirit, HIPAA safe harbour).
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from catalogue.models import Sex
from harvesters.dicom.deid import TOKEN, screen_text

AGE_CAP = 90.0
MAX_VALUE = 255
_NA = frozenset({"", "n/a", "N/A", "NA"})
_SEX = {
    "m": Sex.MALE, "male": Sex.MALE, "f": Sex.FEMALE, "female": Sex.FEMALE,
    "o": Sex.OTHER, "other": Sex.OTHER,
}  # fmt: skip
_UNITS = {
    "year": 1.0, "years": 1.0, "y": 1.0, "month": 1 / 12, "months": 1 / 12,
    "week": 7 / 365.25, "weeks": 7 / 365.25, "day": 1 / 365.25, "days": 1 / 365.25,
}  # fmt: skip
_CAPPED = re.compile(r"\s*(\d{1,3}(?:\.\d+)?)\s*\+\s*")

Failure = Callable[[str, str], None]  # (where, reason)


class TableError(ValueError):
    """A table that cannot be used at all (unreadable, no header, no id column)."""


@dataclass(frozen=True)
class Columns:
    """Which columns mean what, from the source's configuration."""

    age: str
    sex: str
    groups: tuple[str, ...]
    diagnoses: tuple[str, ...]
    species: str
    strain: str


@dataclass(frozen=True)
class Participant:
    sex: Sex = Sex.UNKNOWN
    age_years: float | None = None
    group: str | None = None
    diagnoses: tuple[str, ...] = ()
    species: str | None = None
    strain: str | None = None


@dataclass
class Levels:
    """What the JSON sidecar of a table says about its columns: age units, level meanings."""

    age_scale: float = 1.0
    meanings: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | None, age_column: str) -> Levels:
        if path is None:
            return cls()
        try:
            with open(path, "rb") as f:
                described = json.load(f)
        except (OSError, ValueError, RecursionError):
            raise TableError("its JSON sidecar is not valid JSON") from None
        if not isinstance(described, dict):
            raise TableError("its JSON sidecar is not a JSON object")
        levels = cls()
        age = described.get(age_column)
        if isinstance(age, dict) and isinstance(units := age.get("Units"), str):
            levels.age_scale = _UNITS.get(units.strip().lower(), 1.0)
        for column, about in described.items():
            if isinstance(about, dict) and isinstance(about.get("Levels"), dict):
                levels.meanings[column] = {
                    str(k): v for k, v in about["Levels"].items() if isinstance(v, str)
                }
        return levels


def rows(path: str, id_column: str) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(row number, values by column) for each data row, or (row number, why it is bad)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if not header or id_column not in header:
                raise TableError(f"has no {id_column} column")
            for number, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                if len(values) != len(header):
                    yield number, "has another number of values than the header has columns"
                else:
                    yield number, dict(zip(header, (v.strip() for v in values), strict=True))
    except OSError as exc:
        raise TableError(f"cannot be read ({type(exc).__name__})") from None
    except (UnicodeDecodeError, csv.Error):
        raise TableError("is not UTF-8 tab-separated text") from None


def participants(
    path: str, sidecar: str | None, columns: Columns, failure: Failure
) -> dict[str, Participant]:
    """Participants by label (without "sub-"); bad rows are reported and left out."""
    levels = Levels.load(sidecar, columns.age)
    found: dict[str, Participant] = {}
    for number, row in rows(path, "participant_id"):
        where = f"participants.tsv:row {number}"
        if isinstance(row, str):
            failure(where, f"row {row}")
            continue
        label = _label(row["participant_id"], "sub-")
        if label is None:
            failure(where, "participant_id is not sub-<alphanumeric label>")
        elif label in found:
            failure(where, "participant_id is repeated")
        else:
            found[label] = _participant(row, columns, levels, label, where, failure)
    return found


def session_ages(
    path: str, age_column: str, failure: Failure, where: str
) -> dict[str, float | None]:
    """Age at each session, by session label, from a subject's sessions table."""
    ages: dict[str, float | None] = {}
    for number, row in rows(path, "session_id"):
        if isinstance(row, str):
            failure(f"{where}:row {number}", f"row {row}")
            continue
        label = _label(row["session_id"], "ses-")
        if label is None:
            failure(f"{where}:row {number}", "session_id is not ses-<alphanumeric label>")
            continue
        try:
            ages[label] = age(row.get(age_column, ""), 1.0)
        except ValueError:
            failure(f"{where}:row {number}", f"{age_column} is not a number of years")
    return ages


def _participant(
    row: Mapping[str, str],
    columns: Columns,
    levels: Levels,
    label: str,
    where: str,
    failure: Failure,
) -> Participant:
    needles = ((label.lower(), TOKEN),) if len(label) >= 2 else ()
    try:
        years = age(row.get(columns.age, ""), levels.age_scale)
    except ValueError:
        failure(where, f"{columns.age} is not a number of years")
        years = None

    def value(column: str) -> str | None:
        raw = row.get(column, "")
        if raw in _NA:
            return None
        meaning = levels.meanings.get(column, {}).get(raw, raw)
        return screen_text(meaning, needles, max_chars=MAX_VALUE)

    groups = [v for c in columns.groups if (v := value(c)) is not None]
    diagnoses = tuple(v for c in columns.diagnoses if (v := value(c)) is not None)
    return Participant(
        sex=_SEX.get(row.get(columns.sex, "").strip().lower(), Sex.UNKNOWN),
        age_years=years,
        group=groups[0] if groups else None,
        diagnoses=diagnoses,
        species=value(columns.species),
        strain=value(columns.strain),
    )


def age(value: str, scale: float) -> float | None:
    """Years from a table value; "89+" and anything from 90 up become 90. ValueError if bad."""
    value = value.strip()
    if value in _NA:
        return None
    capped = _CAPPED.fullmatch(value)
    years = float(capped.group(1) if capped else value) * scale
    if not math.isfinite(years) or years < 0:
        raise ValueError("not an age")
    if capped is not None and years >= 89:
        return AGE_CAP
    if years > 150:
        return None  # a placeholder for "unknown", as 999 often is
    return AGE_CAP if years >= AGE_CAP else round(years, 2)


def _label(value: str, prefix: str) -> str | None:
    label = value[len(prefix) :] if value.startswith(prefix) else None
    return label if label and label.isascii() and label.isalnum() else None
