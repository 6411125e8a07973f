"""What the query-based DICOM harvesters (DICOMweb QIDO-RS, DIMSE C-FIND) share: the walk over
StudyDate windows, access addresses, and the one way a queried header becomes records.

Incremental harvesting. A PACS can be asked for studies by StudyDate range, nothing else that
every PACS supports. The bookmark is a date "YYYYMMDD": a run harvests the studies dated that day
or later. The walk goes in windows of `window_days` (a PACS caps its answers, and a window bounds
what we hold in memory while sorting), studies sorted by (date, time, UID) inside each window, so
cursors only go forward. Cursors never pass the *horizon* (today - window_days): the last window is
always walked again, so a study that reaches the PACS up to `window_days` after its date is still
harvested by an incremental run. A study that arrives later than that, or has no StudyDate (range
queries never match it), is harvested by the next full walk (`since` None). A full walk starts with
a census: one lean listing of every study (UID, date, time: what a PACS answers from its index),
which finds the undated studies and plans contiguous windows of about `window_studies` studies
each, so a sparse archive costs a few queries rather than one per `window_days` since 1990.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, Self
from urllib.parse import quote

from pydantic import Field, model_validator
from pydicom import config as pydicom_config
from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset

from catalogue.errors import ConfigurationError, FatalHarvestError
from catalogue.models import Visibility
from catalogue.records import Checkpoint, CollectionRecord, Cursor, Item, Record
from harvesters.base import HarvestContext, HarvesterConfig
from harvesters.dicom.deid import DateMode, DeidentificationError, Deidentifier
from harvesters.dicom.header import CleanHeader
from harvesters.dicom.profiles import Profile
from harvesters.dicom.series import series_records

#: Always asked for: the keys of the walk and what a series record counts.
_KEYS = ("StudyInstanceUID", "StudyDate", "StudyTime", "SeriesInstanceUID", "SOPClassUID")
_COUNTS = ("NumberOfSeriesRelatedInstances",)
#: Study-level attributes outside the patient (0010) and visit (0038) groups.
_STUDY_KEYWORDS = (
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyDescription",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "PhysiciansOfRecord",
    "NameOfPhysiciansReadingStudy",
    "RequestingPhysician",
    "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest",
)


@dataclass(frozen=True)
class QueryFields:
    """What to ask a PACS for: every attribute the de-identification profile reads (allowed
    values, identifiers it screens free text against, dates, sex, age) and the walk's keys.
    Study-level queries ask for patient and study attributes; series-level ones for the rest
    (a series answer with instance-level values would otherwise be overridden by a study's)."""

    study: tuple[int, ...]
    series: tuple[int, ...]
    #: What a decoded study or series answer keeps: nothing else is decoded. A series answer
    #: keeps no study attributes: the study's own answer has them (and decoding is the cost).
    study_keep: frozenset[int]
    series_keep: frozenset[int]

    @classmethod
    def of(cls, profile: Profile) -> QueryFields:
        read = {tag for rule in profile.allow for tag, _ in rule.sources}
        read |= profile.screen_tags | set(profile.reference_dates)
        read |= {tag_for(k) for k in (*_KEYS, *_COUNTS, *_DERIVED_FROM)}
        named = {tag_for(k) for k in _STUDY_KEYWORDS}
        study = {t for t in read if t >> 16 in (0x0010, 0x0038) or t in named}
        series = read - study
        charset = tag_for("SpecificCharacterSet")
        return cls(
            tuple(sorted(study)),
            tuple(sorted(series | {tag_for("StudyInstanceUID")})),
            frozenset(study | {charset}),
            frozenset(series | {charset}),
        )


#: What the de-identifier derives values from, besides its profile's lists.
_DERIVED_FROM = (
    "PatientID",
    "PatientSex",
    "PatientAge",
    "PatientBirthDate",
    "ContrastBolusAgent",
    "ContrastBolusAgentSequence",
)


def tag_for(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    if tag is None:
        raise ValueError(f"unknown DICOM keyword {keyword}")
    return tag


_UID = re.compile(r"[0-9]+(\.[0-9]+)*")
PSEUDONYM_PLACEHOLDERS = frozenset({"subject", "study", "series"})
UID_PLACEHOLDERS = frozenset({"study_uid", "series_uid"})


def is_uid(value: object) -> bool:
    """A syntactically valid DICOM UID: safe to put in a URL path or a C-FIND key."""
    return isinstance(value, str) and len(value) <= 64 and _UID.fullmatch(value) is not None


def parse_da(value: object) -> dt.date | None:
    """A DICOM DA value "YYYYMMDD" as a date; anything else (empty, partial, invalid) is None."""
    text = str(value or "").strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def as_cursor(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


@dataclass(frozen=True)
class StudyRef:
    """One study found by a listing; `data` is the source's raw answer (never logged)."""

    uid: str
    date: dt.date | None
    time: str
    data: Any

    @property
    def key(self) -> tuple[dt.date, str, str]:
        return (self.date or dt.date.min, self.time, self.uid)


class ListStudies(Protocol):
    """A listing of the studies in a StudyDate range ("YYYYMMDD-YYYYMMDD", "YYYYMMDD-", None for
    all), or of the one study `uid`; `lean` asks only for the keys of the walk (UID, date, time),
    which a PACS answers from its index without opening files."""

    def __call__(
        self, dates: str | None, *, lean: bool = False, uid: str | None = None
    ) -> Iterable[StudyRef]: ...


#: Harvest a window's studies, each with the cursor its records carry (in this order).
HarvestStudies = Callable[[list[tuple[StudyRef, Cursor]]], Iterator[Item]]
Window = tuple[dt.date, dt.date]  # first and last day, inclusive


def walk_studies(
    list_studies: ListStudies,
    harvest: HarvestStudies,
    *,
    since: Cursor | None,
    window_days: int,
    window_studies: int,
    today: dt.date,
) -> Iterator[Item]:
    """Walk the studies in StudyDate windows, ascending (see the module's docstring)."""
    horizon = today - dt.timedelta(days=window_days)
    if since is None:
        undated, per_day = _census(list_studies(None, lean=True))
        for ref in undated:  # no date, no place in the bookmark's order: cursor None
            yield from harvest([(full, None) for full in list_studies(None, uid=ref.uid)])
        start = min(per_day, default=horizon)
        tail = max(start, horizon)
        windows: Iterable[Window] = _planned(per_day, start, tail, window_studies)
    else:
        start = parse_cursor(since)
        tail = max(start, horizon)
        windows = _stepped(start, tail, window_days)
    for first, last in windows:
        refs = _window(list_studies, first, last)
        yield from harvest([(ref, as_cursor(ref.date or first)) for ref in refs])
        yield Checkpoint(cursor=as_cursor(last + dt.timedelta(days=1)))
    yield from harvest([(ref, as_cursor(tail)) for ref in _window(list_studies, tail, None)])
    yield Checkpoint(cursor=as_cursor(tail))


def _stepped(start: dt.date, tail: dt.date, days: int) -> Iterator[Window]:
    """Windows of `days` days from `start` up to the day before `tail`."""
    while start < tail:
        last = min(start + dt.timedelta(days=days), tail) - dt.timedelta(days=1)
        yield start, last
        start = last + dt.timedelta(days=1)


def _planned(per_day: dict[dt.date, int], start: dt.date, tail: dt.date, most: int) -> list[Window]:
    """Contiguous windows from `start` to the day before `tail`, cut so that each holds at most
    `most` studies by the census (or one day): a full walk needs one query for a sparse decade."""
    windows: list[Window] = []
    first, held = start, 0
    for day in sorted(d for d in per_day if d < tail):
        if held and held + per_day[day] > most:
            windows.append((first, day - dt.timedelta(days=1)))
            first, held = day, 0
        held += per_day[day]
    if first < tail:
        windows.append((first, tail - dt.timedelta(days=1)))
    return windows


def parse_cursor(since: Cursor) -> dt.date:
    day = parse_da(since) if isinstance(since, str) else None
    if day is None:
        raise FatalHarvestError(
            "the bookmark is not a StudyDate cursor (YYYYMMDD); run a full harvest to reset it"
        )
    return day


def _census(refs: Iterable[StudyRef]) -> tuple[list[StudyRef], dict[dt.date, int]]:
    """The undated studies, and the number of studies per day, from one lean listing."""
    undated: dict[str, StudyRef] = {}
    seen: set[str] = set()
    per_day: dict[dt.date, int] = {}
    for ref in refs:
        if ref.uid in seen:
            continue
        seen.add(ref.uid)
        if ref.date is None:
            undated[ref.uid] = ref
        else:
            per_day[ref.date] = per_day.get(ref.date, 0) + 1
    return sorted(undated.values(), key=lambda r: r.key), per_day


def _window(list_studies: ListStudies, start: dt.date, end: dt.date | None) -> list[StudyRef]:
    """The studies of one window, sorted; duplicates (offset paging over a changing PACS) and
    studies dated outside the window (a lenient PACS) are dropped."""
    query = f"{as_cursor(start)}-{as_cursor(end) if end else ''}"
    found: dict[str, StudyRef] = {}
    for ref in list_studies(query):
        if ref.date is not None and start <= ref.date and (end is None or ref.date <= end):
            found[ref.uid] = ref
    return sorted(found.values(), key=lambda r: r.key)


class QueryConfig(HarvesterConfig):
    """Options every query-based DICOM source has."""

    collection: str = Field(min_length=1, description="title of the collection the source forms")
    collection_id: str | None = Field(
        None,
        min_length=1,
        max_length=512,
        description="native id of the collection (default: the source name)",
    )
    visibility: Visibility = Field(
        Visibility.PUBLIC, description="who may see the collection's records"
    )
    date_mode: DateMode = Field(
        "year", description="how dates are reduced: `year`, or `shift` (keyed, per subject)"
    )
    missing_patient_id: Literal["error", "study"] = Field(
        "error", description="no PatientID: `error` reports it; `study`: the study is the subject"
    )
    window_days: int = Field(
        30,
        ge=1,
        le=36600,
        description="days per StudyDate window of an incremental run, and how far back each "
        "run looks again for late arrivals",
    )
    window_studies: int = Field(
        500, ge=1, le=100_000, description="studies per window of a full walk (by its census)"
    )
    access_url_template: str | None = Field(
        None,
        description="address of a series at the site; placeholders {subject} {study} {series} "
        "(pseudonyms) and, with expose_uids_in_access_url, {study_uid} {series_uid}",
    )
    study_access_url_template: str | None = Field(
        None, description="address of a study; as access_url_template without the series keys"
    )
    expose_uids_in_access_url: bool = Field(
        False, description="allow real Study/Series Instance UIDs in access addresses"
    )

    #: Placeholders a kind adds (DICOMweb: {url}).
    static_placeholders: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _check_templates(self) -> Self:
        uids = UID_PLACEHOLDERS if self.expose_uids_in_access_url else frozenset()
        allowed = PSEUDONYM_PLACEHOLDERS | uids | self.static_placeholders
        for name, fields in (
            ("access_url_template", allowed),
            ("study_access_url_template", allowed - {"series", "series_uid"}),
        ):
            template = getattr(self, name)
            if template is not None:
                _check_template(name, template, fields)
        return self


def _check_template(name: str, template: str, allowed: frozenset[str]) -> None:
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError:
        raise ValueError(f"{name} is not a valid template (unbalanced braces)") from None
    for _text, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            hint = (
                " (UIDs need expose_uids_in_access_url: true)" if field in UID_PLACEHOLDERS else ""
            )
            raise ValueError(
                f"{name}: placeholder {{{field}}} is not allowed here{hint}; "
                f"use {', '.join(sorted('{' + f + '}' for f in allowed))}"
            )


@dataclass(frozen=True)
class AccessTemplates:
    study: str | None
    series: str | None
    static: Mapping[str, str]

    def render(
        self, header: CleanHeader, study_uid: str, series_uid: str
    ) -> tuple[str | None, str | None]:
        """(study address, series address); None where no template, or where a template needs a
        UID the source gave malformed."""
        values = {
            "subject": quote(header.subject, safe=""),
            "study": quote(header.study, safe=""),
            "series": quote(header.series, safe=""),
            **self.static,
        }
        if is_uid(study_uid):
            values["study_uid"] = study_uid
        if is_uid(series_uid):
            values["series_uid"] = series_uid
        return _fill(self.study, values), _fill(self.series, values)


def _fill(template: str | None, values: Mapping[str, str]) -> str | None:
    if template is None:
        return None
    try:
        return template.format_map(values)
    except KeyError:
        return None


def deidentifier(config: QueryConfig, context: HarvestContext) -> Deidentifier:
    secret = context.pseudonym_secret
    if secret is None or not secret.get_secret_value():
        raise FatalHarvestError(
            f"source {context.source!r}: no pseudonym secret is configured for site "
            f"{context.site!r}; DICOM headers are never harvested without one"
        )
    try:
        return Deidentifier(
            secret.get_secret_value().encode("utf-8"),
            date_mode=config.date_mode,
            missing_patient_id=config.missing_patient_id,
        )
    except ConfigurationError as exc:
        raise FatalHarvestError(f"source {context.source!r}: {exc.message}") from None


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """pydicom's value validation warns *and logs* the offending raw value; a harvester must
    never let a header value reach a log, so decoding and cleaning run without it."""
    with pydicom_config.disable_value_validation(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def merged(instance: Dataset, *parents: Dataset) -> Dataset:
    """`instance` completed with the parents' elements it lacks (study and patient attributes
    a series-level answer may not repeat). Elements move as they are, raw ones undecoded:
    decoding a raw value can warn and log it."""
    for parent in parents:
        for tag in list(parent.keys()):
            if tag not in instance:
                instance[tag] = parent.get_item(tag)
    return instance


class Edge:
    """Where query answers become records: the de-identifier, the fields it reads, the access
    templates. A failure is reported under the native id (pseudonym) the record would have had,
    never under a UID: the site, holding the secret, can find it by pseudonymising its UIDs."""

    def __init__(self, config: QueryConfig, context: HarvestContext, access: AccessTemplates):
        self.collection = config.collection_id or context.source
        self.config = config
        self.report = context.report
        self.access = access
        self.deid = deidentifier(config, context)
        self.fields = QueryFields.of(self.deid.profile)

    def collection_record(self, access_url: str | None) -> CollectionRecord:
        return CollectionRecord(
            native_id=self.collection,
            title=self.config.collection,
            visibility=self.config.visibility,
            access_url=access_url,
        )

    def study_failed(self, study_uid: str, reason: str) -> None:
        self.report.failure(self.deid.pseudonym("study", study_uid), f"study: {reason}")

    def series_failed(self, series_uid: str, reason: str) -> None:
        self.report.failure(self.deid.pseudonym("series", series_uid), f"series: {reason}")

    def records(
        self, datasets: list[Dataset], *, study_uid: str, series_uid: str, cursor: Cursor
    ) -> list[Record]:
        try:
            with quiet_pydicom():
                headers = [self.deid.clean(ds) for ds in datasets]
        except DeidentificationError as exc:
            self.series_failed(series_uid, f"cannot be de-identified: {exc.message}")
            return []
        study_url, series_url = self.access.render(headers[0], study_uid, series_uid)
        return list(
            series_records(
                headers,
                collection=self.collection,
                access_url=series_url,
                study_access_url=study_url,
                cursor=cursor,
            )
        )
