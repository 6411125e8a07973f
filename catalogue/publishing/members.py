"""Resolving a dataset's members: an explicit selection of subjects and series, or a cohort
query walked to its end, turned into the series rows a snapshot is made of.

A subject brings all its live series. Series of aggregate-only collections are members too,
but a snapshot keeps them only as counts per site; series of private collections are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from catalogue.access import Identity
from catalogue.errors import ErrorDetail, NotFoundError, ValidationError
from catalogue.models import (
    CodedValue,
    Collection,
    ImagingStudy,
    Series,
    Site,
    Subject,
    Visibility,
)
from catalogue.search.query import validate_query
from catalogue.search.service import SearchService

CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits
MAX_SELECTION = 100_000


@dataclass(frozen=True)
class SeriesRow:
    """One member series with what the snapshot, datasheet and manifest need."""

    iri: str
    subject_id: Any  # as the driver gives it; only compared
    study_id: Any
    site: str
    visibility: Visibility
    collection_iri: str
    fields: dict[str, Any]  # loader fields (modality, manufacturer, ...), nothing identifying
    last_seen_run: str | None  # the harvest run that last confirmed it


def subjects_of_query(
    search: SearchService, identity: Identity, query: dict[str, Any]
) -> list[uuid.UUID]:
    """Every subject the cohort query matches now, for this identity, walked by cursor."""
    q = validate_query({**query, "kind": "subjects", "cursor": None, "facets": [], "size": 1000})
    found: list[uuid.UUID] = []
    cursor: str | None = None
    while True:
        page = search.search(identity, q.model_copy(update={"cursor": cursor}))
        found += [uuid.UUID(h.id) for h in page.hits]
        cursor = page.cursor
        if cursor is None or not page.hits:
            return found


@dataclass(frozen=True)
class Selection:
    """What a dataset is made of before it is resolved: whole subjects, single series."""

    subjects: frozenset[Any] = frozenset()  # subject ids (all their live series)
    series: frozenset[str] = frozenset()  # series IRIs

    def __or__(self, other: Selection) -> Selection:
        return Selection(self.subjects | other.subjects, self.series | other.series)


def resolve_selection(session: Session, iris: Sequence[str]) -> Selection:
    """Subjects and series named by IRI; an IRI naming neither is an error."""
    if len(iris) > MAX_SELECTION:
        raise ValidationError(
            "selection too large", [ErrorDetail(f"at most {MAX_SELECTION} IRIs", "members")]
        )
    wanted = set(iris)
    series = _ids_by_iri(session, Series, wanted)
    subjects = _ids_by_iri(session, Subject, wanted)
    unknown = wanted - set(series) - set(subjects)
    if unknown:
        shown = sorted(unknown)[:5]
        raise NotFoundError(
            "selection names unknown records", [ErrorDetail(i, "members") for i in shown]
        )
    return Selection(frozenset(subjects.values()), frozenset(series))


def _ids_by_iri(session: Session, model: Any, iris: set[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for chunk in _chunks(sorted(iris)):
        rows = session.connection().execute(
            sa.select(model.iri, model.id).where(model.iri.in_(chunk), model.deleted_at.is_(None))
        )
        found |= {iri: id_ for iri, id_ in rows}
    return found


def _raw(column: Any) -> Any:
    """An id column as the driver gives it: grouping needs no `uuid.UUID` per row."""
    return sa.type_coerce(column, sa.String)


_COLUMNS = (
    col(Series.iri), _raw(Series.subject_id), _raw(Series.study_id),
    _raw(Series.last_seen_run_id), col(Site.slug), col(Collection.visibility),
    col(Collection.iri), col(CodedValue.label), col(Series.modality), col(Series.body_part),
    col(Series.series_description), col(Series.manufacturer), col(Series.model_name),
    col(Series.field_strength_t), col(Series.slice_thickness_mm),
    col(Series.repetition_time_ms), col(Series.echo_time_ms), col(Series.inversion_time_ms),
    col(Series.flip_angle_deg), col(Series.contrast_agent), col(Series.annotations),
    col(Series.instance_count), col(Series.year), col(Series.access_url),
    col(ImagingStudy.access_url), col(ImagingStudy.age_years), col(Subject.sex),
)  # fmt: skip
LOADER_FIELDS = (
    "modality", "body_part", "series_description", "manufacturer", "model_name",
    "field_strength_t", "slice_thickness_mm", "repetition_time_ms", "echo_time_ms",
    "inversion_time_ms", "flip_angle_deg", "contrast_agent", "annotations", "instance_count",
    "year", "access_url", "study_access_url", "age_years", "sex",
)  # fmt: skip


def series_rows(session: Session, selection: Selection, live_only: bool = True) -> list[SeriesRow]:
    """The selected series with their site, collection visibility, sequence type and loader
    fields, in IRI order; series of private collections are left out."""
    found: dict[str, SeriesRow] = {}
    runs: dict[Any, str] = {}
    for column, values in (
        (col(Series.subject_id), sorted(selection.subjects)),
        (col(Series.iri), sorted(selection.series)),
    ):
        for chunk in _chunks(values):
            query = _rows_query().where(column.in_(chunk))
            if live_only:
                query = query.where(col(Series.deleted_at).is_(None))
            for r in session.connection().execute(query):
                if r[0] not in found:
                    found[r[0]] = _row(r, runs)
    return sorted(found.values(), key=lambda row: row.iri)


def _rows_query() -> Any:
    sequence = sa.and_(
        col(CodedValue.entity_type) == "series",
        col(CodedValue.entity_id) == col(Series.id),
        col(CodedValue.field) == "sequence_type",
    )
    return (
        sa.select(*_COLUMNS)
        .join(ImagingStudy, col(ImagingStudy.id) == col(Series.study_id))
        .join(Subject, col(Subject.id) == col(Series.subject_id))
        .join(Collection, col(Collection.id) == col(Series.collection_id))
        .join(Site, col(Site.id) == col(Collection.site_id))
        .outerjoin(CodedValue, sequence)
        .where(col(Collection.visibility) != Visibility.PRIVATE)
    )


def _row(r: Any, runs: dict[Any, str]) -> SeriesRow:
    fields = dict(zip(LOADER_FIELDS, r[8:], strict=True))
    if r[7]:
        fields["sequence_type"] = r[7]
    run = None
    if r[3] is not None:  # canonical text once per run, whatever form the driver gave
        run = runs.setdefault(r[3], str(uuid.UUID(str(r[3]))))
    return SeriesRow(r[0], r[1], r[2], r[4], Visibility(r[5]), r[6], fields, run)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
