"""De-identification at the edge: a pydicom `Dataset` in, a `CleanHeader` out.

The DICOM PS3.15 Basic Application Level Confidentiality Profile, for metadata extraction, kept
as data in `profiles/` (the file's `version` goes on every header). A header is built from the
profile's allow-list only, so nothing the profile lists is ever copied; free text is screened;
PatientID and the study and series UIDs become keyed pseudonyms (HMAC-SHA256 with the site's
secret); dates become an age and a year. Private attributes are never read.

Values are read from the raw bytes wherever pydicom would validate them on conversion: its
validation warnings quote the value, which would put PHI in logs. Messages raised here name an
attribute keyword, never a value.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterable
from typing import Any, Literal, get_args

from pydicom import Dataset
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.multival import MultiValue

from catalogue.errors import ConfigurationError, SkippableHarvestError
from catalogue.models import Sex
from harvesters.dicom.header import CleanHeader
from harvesters.dicom.profiles import PN_TAGS, AllowRule, Profile, load_profile
from harvesters.pseudonyms import Pseudonymiser

__all__ = [
    "DateMode",
    "DeidentificationError",
    "Deidentifier",
    "Profile",
    "age_at",
    "identifiers",
    "load_profile",
    "parse_age",
    "screen_text",
]

REDACTED = "[removed]"
DateMode = Literal["year", "shift"]

PATIENT_ID, STUDY_UID, SERIES_UID = 0x00100020, 0x0020000D, 0x0020000E
PATIENT_SEX, PATIENT_AGE, BIRTH_DATE = 0x00100040, 0x00101010, 0x00100030
CONTRAST_AGENT, CONTRAST_AGENT_SEQUENCE = 0x00180010, 0x00180012
CODE_MEANING = 0x00080104

_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI", "UR"})
_SEX = {"M": Sex.MALE, "F": Sex.FEMALE, "O": Sex.OTHER}
# ContrastBolusAgent values that say "no contrast" rather than name an agent.
_NO_CONTRAST = frozenset({"NONE", "NO", "N", "NIL", "0", "-", "NO CONTRAST", "WITHOUT", "NATIV"})
# Older GE (and some others) write the field in gauss: 15000 means 1.5 T. No MR magnet runs
# above ~30 T or below 0.01 T (100 G), so a value over 100 can only be gauss. (A threshold of
# 20 would misread the 21.1 T research systems.)
_GAUSS_ABOVE, _MAX_TESLA = 100.0, 30.0


class DeidentificationError(SkippableHarvestError):
    """A header cannot be de-identified (a key attribute is missing): the record is skipped."""

    code = "deidentification_failed"


# --- reading values --------------------------------------------------------------------------


class _Values:
    """One dataset's values as text. Raw ASCII bytes are decoded here, not by pydicom (whose
    validation warnings quote values); a broken element reads as absent."""

    __slots__ = ("_ds", "elements")

    def __init__(self, ds: Dataset) -> None:
        self._ds = ds
        # Plain int keys: looking a BaseTag up runs its Python-level __eq__, ~1 us a time.
        self.elements = {int(tag): elem for tag, elem in ds.items()}

    def text(self, tag: int) -> str | None:
        elem = self.elements.get(tag)
        if elem is None:
            return None
        try:
            value = self._decode(tag, elem)
        except Exception:  # a malformed element is treated as missing, never quoted
            return None
        value = value.strip(" \x00")
        return value or None

    def _decode(self, tag: int, elem: RawDataElement | DataElement) -> str:
        if not isinstance(elem, RawDataElement):
            return _plain(elem.value)
        raw = elem.value
        if raw is None and elem.length:  # a deferred read
            return _plain(self._ds[tag].value)
        if raw is None or (raw.isascii() and b"\x1b" not in raw):
            return (raw or b"").decode("ascii")
        if (elem.VR if elem.VR not in (None, "UN") else dictionary_VR(tag)) in _ASCII_VRS:
            return raw.decode("latin-1")  # no character set applies; keep pydicom out
        return _plain(self._ds[tag].value)  # pydicom knows the character sets

    def item_count(self, tag: int) -> int | None:
        """Number of items of a sequence, None when absent."""
        if tag not in self.elements:
            return None
        try:
            return len(self._ds[tag].value or ())
        except Exception:
            return None

    def code_meaning(self, tag: int) -> str | None:
        """CodeMeaning of the first item of a code sequence."""
        if not self.item_count(tag):
            return None
        try:
            return _Values(self._ds[tag].value[0]).text(CODE_MEANING)
        except Exception:
            return None


def _plain(value: object) -> str:
    if value is None or isinstance(value, Dataset):
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(_plain(v) for v in value)
    return str(value)


def _decimal(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = float(text.split("\\", 1)[0])
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _tesla(text: str | None) -> float | None:
    value = _decimal(text)
    if not value:
        return None
    if value > _GAUSS_ABOVE:
        value /= 10_000
    return round(value, 4) if value <= _MAX_TESLA else None


def _count(text: str | None) -> int | None:
    try:
        value = int(text or "")
    except ValueError:
        return None
    return value if value >= 0 else None


_UID = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_CODE = re.compile(r"[A-Z0-9 _]{1,16}")


def _uid(text: str | None) -> str | None:
    return text if text and len(text) <= 64 and _UID.fullmatch(text) else None


@functools.lru_cache(maxsize=1024)  # a handful of codes repeat in every file
def _code(text: str) -> str | None:
    """A CS value, when it is one and holds fewer than 6 digits (no date, no ID)."""
    text = text.strip().upper()
    return text if _CODE.fullmatch(text) and sum(c.isdigit() for c in text) < 6 else None


# --- screening free text ---------------------------------------------------------------------

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_SCREEN = re.compile(
    "|".join(
        (
            r"(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
            r"(?P<iso>(?<!\d)\d{4}(?P<s1>[./-])\d{1,2}(?P=s1)\d{1,2}(?!\d))",  # 2023-01-05
            r"(?P<dmy>(?<!\d)\d{1,2}(?P<s2>[./-])\d{1,2}(?P=s2)(?:\d{4}|\d{2})(?!\d))",  # 5.1.23
            rf"(?P<dmon>(?<![^\W_])\d{{1,2}}[ .-]?{_MONTH}[ .-]?(?:\d{{4}}|\d{{2}})(?!\d))",
            rf"(?P<mond>(?<![a-z]){_MONTH} ?\d{{1,2}},? ?\d{{4}}(?!\d))",  # Apr 17, 1923
            r"(?P<long>\d{6,})",  # IDs, YYYYMMDD: wherever they are
            # A free-standing number or group of numbers (not the 1 of "T1"): see _redacts.
            r"(?P<num>(?<![^\W_])\+?\(?\d+(?:[ ./()-]{1,3}\d+)*)",
        )
    ),
    re.IGNORECASE,
)
_DIGIT_RUNS = re.compile(r"\d+")
_NAME_PART = re.compile(r"[^\W_]{2,}")
_MEANINGFUL = re.compile(r"[^\W_]")
_PLACEHOLDER = re.compile(re.escape(REDACTED))

# How an identifier matches: anywhere, between non-letters (name parts), between non-alnums.
SUBSTRING, WORD, TOKEN = 0, 1, 2
Identifier = tuple[str, int]  # (lower-case needle, how it matches)


def _redacts(match: re.Match[str]) -> bool:
    """Dates, e-mails and runs of 6+ digits go; a group of numbers goes when it holds 8+ digits
    (phone numbers, UIDs); short numbers (b1000, 3mm, 1.5, 5/1.5) stay."""
    if match.lastgroup != "num":
        return True
    runs = [len(r) for r in _DIGIT_RUNS.findall(match.group())]
    return max(runs) >= 6 or (len(runs) > 1 and sum(runs) >= 8)


def screen_text(
    text: str, identifiers: Iterable[Identifier] = (), *, max_chars: int = 1024
) -> str | None:
    """`text` with identifier-like parts replaced by "[removed]"; None when nothing meaningful is
    left or it is too long to be a descriptor.

    Policy: redact rather than drop, so "FLAIR [removed]" still says FLAIR. Removed are the given
    identifiers (this dataset's names, IDs, addresses) and, everywhere, dates, e-mail addresses
    and long or grouped digit runs. Redaction never leaves a 6-digit run or a date behind."""
    text, needles = text.strip(), tuple(identifiers)
    if not text or len(text) > max_chars:
        return None
    # Identifiers and patterns are found in the same text, so neither hides the other; passes
    # repeat until nothing is found (removing ID "AB12CD" from "AB12CDJOHN" exposes JOHN).
    for _ in range(4):
        spans = [*_identifier_spans(text, needles), *_pattern_spans(text)]
        if not spans:
            return text if _MEANINGFUL.search(text.replace(REDACTED, "")) else None
        text = _replace(text, spans)
    return None


def _pattern_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _SCREEN.finditer(text) if _redacts(m)]


def _identifier_spans(text: str, identifiers: tuple[Identifier, ...]) -> list[tuple[int, int]]:
    low = text.lower()
    if len(low) != len(text):  # a few characters lower-case to two; keep offsets aligned
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    done = [m.span() for m in _PLACEHOLDER.finditer(text)] if REDACTED in text else []
    spans: list[tuple[int, int]] = []
    for needle, how in identifiers:
        start = low.find(needle)
        while start >= 0:
            end = start + len(needle)
            bounded = how == SUBSTRING or (_edge(low, start - 1, how) and _edge(low, end, how))
            if bounded and not any(s < end and start < e for s, e in done):  # not in "[removed]"
                spans.append((start, end))
            start = low.find(needle, start + 1)
    return spans


def _replace(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            out += [text[last:start], REDACTED]
        last = max(last, end)
    return "".join([*out, text[last:]])


def _edge(text: str, i: int, how: int) -> bool:
    if i < 0 or i >= len(text):
        return True
    return not (text[i].isalpha() if how == WORD else text[i].isalnum())


def identifiers(values: Iterable[tuple[int, str]]) -> tuple[Identifier, ...]:
    """Needles for `screen_text` from (tag, value) pairs: name parts of PN values (family, given,
    middle; not prefix or suffix), whole values of anything else. Longest first."""
    found: set[Identifier] = set()
    for tag, value in values:
        for one in value.split("\\"):
            if tag in PN_TAGS:
                for group in one.lower().split("="):
                    name = " ".join(group.split("^")[:3])
                    found.update((part, WORD) for part in _NAME_PART.findall(name))
            elif len(one := one.strip()) >= 2:
                found.add((one.lower(), SUBSTRING if len(one) >= 4 else TOKEN))
    return tuple(sorted(found, key=lambda i: (-len(i[0]), i)))


# The files of one series repeat the same names and descriptions: screen each once.
_identifiers = functools.lru_cache(maxsize=1024)(identifiers)


@functools.lru_cache(maxsize=8192)
def _screen(text: str, needles: tuple[Identifier, ...], max_chars: int) -> str | None:
    return screen_text(text, needles, max_chars=max_chars)


# --- ages and dates --------------------------------------------------------------------------

_AGE = re.compile(r"\s*0*(\d{1,3})\s*([DWMY]?)\s*", re.IGNORECASE | re.ASCII)
_AGE_UNIT = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0, "": 1.0}
_DATE = re.compile(r"(\d{4})[.-]?(\d{2})[.-]?(\d{2})", re.ASCII)


def parse_age(value: str | None, cap: float = 90) -> float | None:
    """Years from a DICOM AS value ("045Y", "006M", "010W", "003D"; a bare number is years),
    rounded to 0.01, capped at `cap`; None for anything else."""
    match = _AGE.fullmatch(value or "")
    if match is None:
        return None
    return _capped(int(match.group(1)) * _AGE_UNIT[match.group(2).upper()], cap)


def age_at(birth: dt.date, on: dt.date, cap: float = 90) -> float | None:
    """Completed years at `on` (as "045Y" would say); under a year, the fraction."""
    if on < birth:
        return None
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return _capped(float(years) if years >= 1 else (on - birth).days / 365.25, cap)


def _capped(years: float, cap: float) -> float | None:
    # Ages of 90 and over are one group (HIPAA safe harbour): the very old are few and findable.
    if years > 150:
        return None  # "999Y" and the like mean unknown
    return float(cap) if years >= cap else round(years, 2)


def _date(text: str | None) -> dt.date | None:
    match = _DATE.match(text or "")  # DT values start with a date too
    if match is None:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


# --- the de-identifier -----------------------------------------------------------------------


class Deidentifier:
    """Turns DICOM headers into `CleanHeader`s under one profile and one per-site secret.

    Pseudonyms are HMAC-SHA256(secret, kind NUL value), 32 hex digits: stable across
    runs and processes, different under another secret. The subject's is keyed on PatientID
    alone: sources disagree on whether they return IssuerOfPatientID, and one patient must get
    one pseudonym from every source of a site (the per-site secret already separates sites).

    `date_mode="year"`: study_year is the year of the first valid reference date (StudyDate,
    then series, acquisition, content date). `"shift"`: that date is first moved by the
    subject's keyed shift (1 to max_shift_days days, either way; never 0), so study_year is
    the shifted date's year and intervals between a subject's studies are kept. Age comes from
    PatientAge, else birth and reference date, and does not depend on the mode.

    `missing_patient_id="error"` raises `DeidentificationError`; `"study"` keys the subject on
    the StudyInstanceUID instead (each study then counts as its own subject).
    """

    def __init__(
        self,
        secret: bytes,
        *,
        date_mode: DateMode = "year",
        profile: Profile | None = None,
        missing_patient_id: Literal["error", "study"] = "error",
    ) -> None:
        keys = Pseudonymiser(secret)  # (raises ConfigurationError for a short secret)
        if date_mode not in get_args(DateMode):
            raise ConfigurationError("date_mode must be 'year' or 'shift'")
        self.profile = profile or load_profile()
        self.date_mode = date_mode
        self.missing_patient_id = missing_patient_id
        self._keys = keys
        self.tags_read = _tags_read(self.profile)

    def pseudonym(self, kind: str, value: str) -> str:
        """The keyed pseudonym of `value` in the domain `kind` ("subject", "study", "series")."""
        return self._keys.pseudonym(kind, value)

    def date_shift(self, subject: str) -> int:
        """Days the dates of `subject` (its pseudonym) move in shift mode; never 0."""
        digest = self._keys.digest("date-shift", subject)
        days = int.from_bytes(digest[:4], "big") % self.profile.max_shift_days + 1
        return days if digest[4] & 1 else -days

    def clean(self, ds: Dataset) -> CleanHeader:
        """The de-identified header of `ds` (from a file, DICOM JSON or a C-FIND response).
        Raises `DeidentificationError` when the patient, study or series key is missing."""
        values = _Values(ds)
        subject = self._subject(values)
        study = self.pseudonym("study", _required(values, STUDY_UID, "StudyInstanceUID"))
        series = self.pseudonym("series", _required(values, SERIES_UID, "SeriesInstanceUID"))
        present = sorted(values.elements.keys() & self.profile.screen_tags)
        needles = _identifiers(tuple((t, v) for t in present if (v := values.text(t)) is not None))
        copied = {rule.field: self._allowed(values, rule, needles) for rule in self.profile.allow}
        age, year = self._age_and_year(values, subject)
        return CleanHeader(
            profile=self.profile.version,
            subject=subject,
            study=study,
            series=series,
            sex=_SEX.get((values.text(PATIENT_SEX) or "").upper(), Sex.UNKNOWN),
            age_years=age,
            study_year=year,
            contrast_agent=_contrast(values),
            **copied,
        )

    def _subject(self, values: _Values) -> str:
        patient_id = values.text(PATIENT_ID)
        if patient_id is not None:
            return self.pseudonym("subject", patient_id)
        if self.missing_patient_id == "study":
            study_uid = _required(values, STUDY_UID, "StudyInstanceUID")
            return self.pseudonym("subject-of-study", study_uid)
        raise DeidentificationError("PatientID is missing")

    def _allowed(self, values: _Values, rule: AllowRule, needles: tuple[Identifier, ...]) -> Any:
        for tag, is_sequence in rule.sources:
            text = values.code_meaning(tag) if is_sequence else values.text(tag)
            if text is None:
                continue
            if rule.kind == "text":
                value: Any = _screen(text, needles, self.profile.max_text_chars)
            elif rule.kind == "codes":
                value = tuple(c for v in text.split("\\") if v.strip() and (c := _code(v)))
            else:
                value = _READERS[rule.kind](text)
            if value is not None:
                return value
        return () if rule.kind == "codes" else None

    def _age_and_year(self, values: _Values, subject: str) -> tuple[float | None, int | None]:
        cap = self.profile.age_cap_years
        dates = (_date(values.text(tag)) for tag in self.profile.reference_dates)
        on = next((d for d in dates if d is not None), None)
        age = parse_age(values.text(PATIENT_AGE), cap)
        if age is None and on is not None and (birth := _date(values.text(BIRTH_DATE))):
            age = age_at(birth, on, cap)
        if on is None:
            return age, None
        if self.date_mode == "shift":
            try:
                on += dt.timedelta(days=self.date_shift(subject))
            except OverflowError:
                return age, None
        return age, on.year


def _tags_read(profile: Profile) -> frozenset[int]:
    """Every top-level attribute `clean` looks at: a reader may leave out all others (its
    result is the same), which is how folder harvests skip most of a header."""
    fixed = {PATIENT_ID, STUDY_UID, SERIES_UID, PATIENT_SEX, PATIENT_AGE, BIRTH_DATE}
    fixed |= {CONTRAST_AGENT, CONTRAST_AGENT_SEQUENCE}
    allowed = {tag for rule in profile.allow for tag, _ in rule.sources}
    return frozenset(fixed | allowed | profile.screen_tags | set(profile.reference_dates))


_READERS: dict[str, Callable[[str], object]] = {
    "code": lambda text: _code(text.split("\\", 1)[0]),
    "uid": _uid,
    "count": _count,
    "number": _decimal,
    "tesla": _tesla,
}


def _required(values: _Values, tag: int, keyword: str) -> str:
    value = values.text(tag)
    if value is None:
        raise DeidentificationError(f"{keyword} is missing")
    return value


def _contrast(values: _Values) -> bool | None:
    """True when an agent is recorded, False when the attributes are there but say none (empty,
    or "NONE" and the like), None when the source says nothing."""
    items = values.item_count(CONTRAST_AGENT_SEQUENCE)
    if items:
        return True
    agent = values.text(CONTRAST_AGENT)
    if agent is None:
        return False if items == 0 or CONTRAST_AGENT in values.elements else None
    return agent.upper() not in _NO_CONTRAST
