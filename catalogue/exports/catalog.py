"""The node's own catalogue, one page at a time: findable datasets not withdrawn, by key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from catalogue.exports.view import LISTED, DatasetView, Node, dataset_views, own_datasets
from catalogue.models import Dataset
from catalogue.models.publishing import DatasetCuration

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class CataloguePage:
    datasets: list[DatasetView]
    total: int
    next_after: uuid.UUID | None  # the key to continue after; None on the last page


def _listed(statement: Any) -> Any:
    withdrawn = select(DatasetCuration.dataset_id).where(
        col(DatasetCuration.tombstoned_at).is_not(None)
    )
    return (
        statement.where(own_datasets())
        .where(col(Dataset.state).in_(LISTED))
        .where(col(Dataset.deleted_at).is_(None))
        .where(col(Dataset.id).not_in(withdrawn))
    )


def catalogue_page(
    session: Session, node: Node, after: uuid.UUID | None, size: int
) -> CataloguePage:
    size = max(1, min(size, MAX_PAGE_SIZE))
    statement = _listed(select(Dataset)).order_by(col(Dataset.id)).limit(size + 1)
    if after is not None:
        statement = statement.where(col(Dataset.id) > after)
    rows: list[Dataset] = list(session.exec(statement))
    total_statement = _listed(select(sa.func.count()).select_from(Dataset))
    total = int(session.exec(total_statement).one())
    more = len(rows) > size
    rows = rows[:size]
    return CataloguePage(
        datasets=dataset_views(session, node, rows),
        total=total,
        next_after=rows[-1].id if more else None,
    )
