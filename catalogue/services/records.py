"""Reading records (subjects, studies, series) the caller may see at record level, in batches.

`RecordService.reader(identity)` answers for one caller: it learns once which collections that
caller may read records of, then every look-up is one query however many ids it is given, and
every child page (studies of many subjects, series of many studies) is one windowed query. A
record outside those collections, or soft-deleted, is simply absent: callers cannot tell it from
one that does not exist.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import aliased
from sqlmodel import SQLModel, col, select

from catalogue.access import Access, Identity
from catalogue.errors import NotFoundError, PermissionDeniedError
from catalogue.grants import collection_access
from catalogue.models import CodedValue, ImagingStudy, Series, Sex, Subject
from catalogue.store import Store

MAX_PAGE = 100

ChildKind = Literal["subjects", "studies", "series"]
Parent = Literal["collection", "subject", "study"]


class CodedView(BaseModel):
    field: str
    original_value: str
    concept_iri: str | None
    scheme: str | None
    code: str | None
    label: str | None
    method: str
    confidence: float


class SubjectView(BaseModel):
    id: uuid.UUID
    iri: str
    collection_id: uuid.UUID
    sex: Sex
    birth_year: int | None
    group: str | None
    strain: str | None
    first_seen_at: datetime
    last_seen_at: datetime


class StudyView(BaseModel):
    id: uuid.UUID
    iri: str
    subject_id: uuid.UUID
    collection_id: uuid.UUID
    description: str | None
    year: int | None
    age_years: float | None
    access_url: str | None


class SeriesView(BaseModel):
    id: uuid.UUID
    iri: str
    study_id: uuid.UUID
    subject_id: uuid.UUID
    collection_id: uuid.UUID
    modality: str | None
    body_part: str | None
    series_description: str | None
    protocol_name: str | None
    sequence_name: str | None
    contrast_agent: bool | None
    manufacturer: str | None
    model_name: str | None
    field_strength_t: float | None
    slice_thickness_mm: float | None
    repetition_time_ms: float | None
    echo_time_ms: float | None
    inversion_time_ms: float | None
    flip_angle_deg: float | None
    image_type: list[str]
    sop_class_uids: list[str]
    annotations: bool
    instance_count: int | None
    year: int | None
    access_url: str | None


View = SubjectView | StudyView | SeriesView
V = TypeVar("V", SubjectView, StudyView, SeriesView)


@dataclass(frozen=True)
class ChildPage:
    """Up to `first` children of one parent, in id order, and whether more follow."""

    items: list[Any]
    has_next: bool


_MODELS: dict[ChildKind, tuple[type[Subject | ImagingStudy | Series], type[BaseModel]]] = {
    "subjects": (Subject, SubjectView),
    "studies": (ImagingStudy, StudyView),
    "series": (Series, SeriesView),
}
_PARENT_COLUMN = {"collection": "collection_id", "subject": "subject_id", "study": "study_id"}
_ENTITY_TYPE = {"subjects": "subject", "studies": "imaging_study", "series": "series"}


class RecordService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def reader(self, identity: Identity) -> RecordReader:
        return RecordReader(self.store, identity)


class RecordReader:
    """One caller's view of the records. Build one per request: it caches what it may read."""

    def __init__(self, store: Store, identity: Identity) -> None:
        self.store = store
        self.identity = identity
        self._levels: dict[uuid.UUID, Access] | None = None
        self._readable: frozenset[uuid.UUID] = frozenset()
        self._lock = threading.Lock()  # loaders ask from several threads at once

    def levels(self) -> dict[uuid.UUID, Access]:
        """What the caller may learn from each live collection (asked once per reader): its
        visibility, the site's curators and the caller's grants, as `catalogue.access` rules."""
        with self._lock:
            if self._levels is None:
                with self.store.engine.connect() as conn:
                    self._levels = {c.id: c.access for c in collection_access(conn, self.identity)}
                self._readable = frozenset(
                    i for i, level in self._levels.items() if level is Access.RECORDS
                )
        return self._levels

    def readable_collections(self) -> frozenset[uuid.UUID]:
        """Live collections whose records the caller may see."""
        self.levels()
        return self._readable

    def require_records(self, collection_id: uuid.UUID) -> None:
        """Raise unless the caller may list the collection's records; a collection the caller
        may not know of is not found, exactly like one that does not exist."""
        level = self.levels().get(collection_id, Access.NONE)
        if level is Access.NONE:
            raise NotFoundError("no such collection")
        if level is not Access.RECORDS:
            raise PermissionDeniedError("this collection shares counts only, not its records")

    def may_read(self, collection_id: uuid.UUID) -> bool:
        return collection_id in self.readable_collections()

    def by_ids(self, kind: ChildKind, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """Visible records of `kind` among `ids`, in one query."""
        model, view = _MODELS[kind]
        readable = self.readable_collections()
        if not ids or not readable:
            return {}
        query = select(model).where(
            col(model.id).in_(list(ids)),
            col(model.deleted_at).is_(None),
            col(model.collection_id).in_(list(readable)),
        )
        with self.store.session() as session:
            rows = session.exec(query).all()
        return {r.id: view.model_validate(r, from_attributes=True) for r in rows}

    def by_iri(self, kind: ChildKind, iri: str) -> Any | None:
        model, _ = _MODELS[kind]
        with self.store.session() as session:
            found = session.exec(select(model.id).where(model.iri == iri)).first()
        return self.by_ids(kind, [found]).get(found) if found is not None else None

    def children(
        self,
        kind: ChildKind,
        parent: Parent,
        parent_ids: Sequence[uuid.UUID],
        first: int,
        after: uuid.UUID | None = None,
    ) -> dict[uuid.UUID, ChildPage]:
        """The first `first` children (after id `after`) of each parent, in one query."""
        model, view = _MODELS[kind]
        first = max(0, min(first, MAX_PAGE))
        readable = self.readable_collections()
        pages = {p: ChildPage([], False) for p in parent_ids}
        if not parent_ids or not readable:
            return pages
        parent_col = getattr(model, _PARENT_COLUMN[parent])
        rank = sa.func.row_number().over(partition_by=parent_col, order_by=col(model.id))
        inner = select(model, rank.label("rank")).where(
            col(parent_col).in_(list(parent_ids)),
            col(model.deleted_at).is_(None),
            col(model.collection_id).in_(list(readable)),
        )
        if after is not None:
            inner = inner.where(col(model.id) > after)
        sub = inner.subquery()
        row = aliased(model, sub)
        query = (
            select(row)
            .where(sub.c.rank <= first + 1)
            .order_by(getattr(sub.c, _PARENT_COLUMN[parent]), sub.c.id)
        )
        with self.store.session() as session:
            records = session.exec(query).all()
        grouped: dict[uuid.UUID, list[SQLModel]] = {}
        for r in records:
            grouped.setdefault(getattr(r, _PARENT_COLUMN[parent]), []).append(r)
        for parent_id, rows in grouped.items():
            items = [view.model_validate(r, from_attributes=True) for r in rows[:first]]
            pages[parent_id] = ChildPage(items, has_next=len(rows) > first)
        return pages

    def child_counts(
        self, kind: ChildKind, parent: Parent, parent_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, int]:
        """How many visible children each parent has, in one query."""
        model, _ = _MODELS[kind]
        readable = self.readable_collections()
        if not parent_ids or not readable:
            return {p: 0 for p in parent_ids}
        parent_col = col(getattr(model, _PARENT_COLUMN[parent]))
        query = (
            select(parent_col, sa.func.count())
            .where(
                parent_col.in_(list(parent_ids)),
                col(model.deleted_at).is_(None),
                col(model.collection_id).in_(list(readable)),
            )
            .group_by(parent_col)
        )
        with self.store.session() as session:
            found = dict(session.exec(query).all())
        return {p: int(found.get(p, 0)) for p in parent_ids}

    def coded(self, kind: ChildKind, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[CodedView]]:
        """Coded values (original value and concept) of visible records, in one query."""
        visible = self.by_ids(kind, ids)
        out: dict[uuid.UUID, list[CodedView]] = {i: [] for i in ids}
        if not visible:
            return out
        query = (
            select(CodedValue)
            .where(
                CodedValue.entity_type == _ENTITY_TYPE[kind],
                col(CodedValue.entity_id).in_(list(visible)),
            )
            .order_by(col(CodedValue.field), col(CodedValue.original_value), col(CodedValue.id))
        )
        with self.store.session() as session:
            for value in session.exec(query).all():
                out[value.entity_id].append(CodedView.model_validate(value, from_attributes=True))
        return out
