"""Resolving a dataset's members: an explicit selection of subjects and series, or a cohort
query walked to its end, turned into the series rows a snapshot is made of.

A subject brings all its live series. Series of aggregate-only collections are members too,
but a snapshot keeps them only as counts per site; series of private collections are left out.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
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

    id: uuid.UUID
    iri: str
    subject_id: uuid.UUID
    study_id: uuid.UUID
    site: str
    visibility: Visibility
    collection_iri: str
    fields: dict[str, Any]  # loader fields (modality, manufacturer, ...), nothing identifying
    last_seen_run_id: uuid.UUID | None


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


def series_of_selection(session: Session, iris: Sequence[str]) -> set[uuid.UUID]:
    """Series named by IRI, and every live series of subjects named by IRI."""
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
    return set(series.values()) | series_of_subjects(session, subjects.values())


def _ids_by_iri(session: Session, model: Any, iris: set[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    for chunk in _chunks(sorted(iris)):
        rows = session.execute(
            sa.select(model.iri, model.id).where(model.iri.in_(chunk), model.deleted_at.is_(None))
        )
        found |= {iri: id_ for iri, id_ in rows}
    return found


def series_of_subjects(session: Session, subjects: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(sorted(set(subjects))):
        rows = session.execute(
            sa.select(col(Series.id)).where(
                col(Series.subject_id).in_(chunk), col(Series.deleted_at).is_(None)
            )
        )
        found |= {r for (r,) in rows}
    return found


_COLUMNS = (
    col(Series.id), col(Series.iri), col(Series.subject_id), col(Series.study_id),
    col(Series.last_seen_run_id), col(Site.slug), col(Collection.visibility),
    col(Collection.iri), col(Series.modality), col(Series.body_part),
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


def series_rows(session: Session, ids: Iterable[uuid.UUID]) -> list[SeriesRow]:
    """The member series with their site, collection visibility and loader fields, in IRI order;
    series of private collections are left out."""
    rows: list[SeriesRow] = []
    for chunk in _chunks(sorted(set(ids))):
        query = (
            sa.select(*_COLUMNS)
            .join(ImagingStudy, col(ImagingStudy.id) == col(Series.study_id))
            .join(Subject, col(Subject.id) == col(Series.subject_id))
            .join(Collection, col(Collection.id) == col(Series.collection_id))
            .join(Site, col(Site.id) == col(Collection.site_id))
            .where(col(Series.id).in_(chunk), col(Collection.visibility) != Visibility.PRIVATE)
        )
        for r in session.execute(query):
            fields = dict(zip(LOADER_FIELDS, r[8:], strict=True))
            rows.append(
                SeriesRow(r[0], r[1], r[2], r[3], r[5], Visibility(r[6]), r[7], fields, r[4])
            )
    _add_sequence_types(session, rows)
    return sorted(rows, key=lambda row: row.iri)


def _add_sequence_types(session: Session, rows: list[SeriesRow]) -> None:
    """The sequence type concept (BIDS-aligned label) of each series, where one was mapped."""
    by_id = {row.id: row for row in rows}
    for chunk in _chunks(sorted(by_id)):
        coded = session.execute(
            sa.select(col(CodedValue.entity_id), col(CodedValue.label)).where(
                col(CodedValue.entity_type) == "series",
                col(CodedValue.field) == "sequence_type",
                col(CodedValue.entity_id).in_(chunk),
            )
        )
        for entity_id, label in coded:
            if label:
                by_id[entity_id].fields["sequence_type"] = label


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
