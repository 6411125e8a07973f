"""What the OAI-PMH provider reads: our own published datasets, paged by primary key.

Keyset pagination on the primary key (`id > last`) walks an index whatever the page number, so
the millionth record costs what the first does; `from`/`until` and sets only filter that walk.
A record updated during a harvest keeps its place (its key does not move).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from catalogue.exports.oaipmh.protocol import ListRequest
from catalogue.exports.view import LISTED, DatasetView, Node, dataset_views, own_datasets
from catalogue.models import Collection, Dataset, DoiState, Site
from catalogue.models.base import Visibility
from catalogue.models.datasets import DatasetSet

#: ever public: a record in one of these states is listed, or kept as deleted
EXPOSED = frozenset({*LISTED, DoiState.HIDDEN})


@dataclass(frozen=True)
class OaiRecord:
    """One OAI item: its dataset view (metadata and datestamp), sets and deletion."""

    view: DatasetView
    sets: tuple[str, ...]

    @property
    def deleted(self) -> bool:
        return self.view.deleted or self.view.state not in LISTED


@dataclass(frozen=True)
class OaiSet:
    spec: str
    name: str


def _exposed() -> Any:
    return sa.and_(own_datasets(), col(Dataset.state).in_(EXPOSED))


def _filtered(statement: Any, request: ListRequest) -> Any:
    statement = statement.where(_exposed())
    if request.from_ is not None:
        statement = statement.where(col(Dataset.updated_at) >= request.from_)
    if request.until is not None:
        statement = statement.where(col(Dataset.updated_at) <= request.until)
    if request.set_spec is not None:
        members = select(DatasetSet.dataset_id).where(DatasetSet.spec == request.set_spec)
        statement = statement.where(col(Dataset.id).in_(members))
    return statement


def page(
    session: Session, node: Node, request: ListRequest, size: int
) -> tuple[list[OaiRecord], bool]:
    """Up to `size` records after `request.after`, and whether more follow."""
    rows = list(session.exec(page_statement(request, size)))
    more = len(rows) > size
    return records(session, node, rows[:size]), more


def page_statement(request: ListRequest, size: int) -> Any:
    """One page by key: an index walk from `after` that stops after `size + 1` rows."""
    statement = _filtered(select(Dataset), request).order_by(col(Dataset.id)).limit(size + 1)
    if request.after is not None:
        statement = statement.where(col(Dataset.id) > request.after)
    return statement


def count(session: Session, request: ListRequest) -> int:
    statement = _filtered(select(sa.func.count()).select_from(Dataset), request)
    return int(session.exec(statement).one())


def get(session: Session, node: Node, dataset_id: uuid.UUID) -> OaiRecord | None:
    dataset = session.exec(
        select(Dataset).where(Dataset.id == dataset_id).where(_exposed())
    ).first()
    return records(session, node, [dataset])[0] if dataset is not None else None


def earliest(session: Session) -> datetime | None:
    statement = select(sa.func.min(Dataset.updated_at)).where(_exposed())
    value: datetime | None = session.exec(statement).one()
    return value


def records(session: Session, node: Node, datasets: Sequence[Dataset]) -> list[OaiRecord]:
    """Views and sets for a page of datasets, in two queries however long the page."""
    sets = _sets_of(session, [d.id for d in datasets])
    views = dataset_views(session, node, datasets)
    return [OaiRecord(view=v, sets=tuple(sorted(sets.get(v.dataset_id, ())))) for v in views]


def _sets_of(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    found: dict[uuid.UUID, list[str]] = {}
    ids = list(ids)
    if not ids:
        return found
    for row in session.exec(select(DatasetSet).where(col(DatasetSet.dataset_id).in_(ids))):
        found.setdefault(row.dataset_id, []).append(row.spec)
    return found


def list_sets(session: Session) -> list[OaiSet]:
    """Sites (communities) and their public collections that hold members of a dataset."""
    used = set(session.exec(select(DatasetSet.spec).distinct()))
    sets = [OaiSet(f"site:{s.slug}", s.name) for s in session.exec(select(Site))]
    public = select(Collection).where(Collection.visibility == Visibility.PUBLIC)
    sets += [OaiSet(f"collection:{c.id}", c.title) for c in session.exec(public)]
    return sorted((s for s in sets if s.spec in used), key=lambda s: s.spec)
