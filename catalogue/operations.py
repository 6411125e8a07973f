"""What operators watch: readiness of the store, the search engine and the indexer, and the
figures `/metrics` exports (index backlog, harvest runs and records per source)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

import sqlalchemy as sa
from sqlmodel import col

from catalogue.checks import CheckResult, check_search, check_store
from catalogue.errors import CatalogueError
from catalogue.models import HarvestRun, OutboxEntry, Source, utcnow
from catalogue.settings import Settings
from catalogue.store import Store


@dataclass(frozen=True)
class Backlog:
    pending: int  # outbox entries the indexer has not applied yet
    lag_seconds: float  # age of the oldest (0 when the index is up to date)


@dataclass(frozen=True)
class HarvestTotal:
    source: str
    status: str
    runs: int
    seen: int
    added: int
    updated: int
    deleted: int
    failed: int


def index_backlog(store: Store) -> Backlog:
    with store.engine.connect() as conn:
        pending, oldest = conn.execute(
            sa.select(sa.func.count(), sa.func.min(col(OutboxEntry.created_at)))
        ).one()
    if oldest is None:
        return Backlog(int(pending), 0.0)
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    return Backlog(int(pending), max(0.0, (utcnow() - oldest).total_seconds()))


def harvest_totals(store: Store) -> list[HarvestTotal]:
    """Runs and records per source and run status, over the node's whole history."""
    r = HarvestRun
    query = (
        sa.select(
            col(Source.name),
            col(r.status),
            sa.func.count(),
            *(sa.func.coalesce(sa.func.sum(c), 0) for c in (r.seen, r.added, r.updated)),
            *(sa.func.coalesce(sa.func.sum(c), 0) for c in (r.deleted, r.failed)),
        )
        .join(Source, col(Source.id) == col(r.source_id))
        .group_by(col(Source.name), col(r.status))
        .order_by(col(Source.name), col(r.status))
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        HarvestTotal(name, str(getattr(status, "value", status)), *map(int, figures))
        for name, status, *figures in rows
    ]


def check_index_lag(store: Store, max_lag_seconds: float) -> CheckResult:
    try:
        backlog = index_backlog(store)
    except (CatalogueError, sa.exc.SQLAlchemyError):
        return CheckResult(name="index", ok=False, detail="the outbox cannot be read")
    detail = f"{backlog.pending} changes waiting, oldest {backlog.lag_seconds:.0f} s"
    if backlog.lag_seconds > max_lag_seconds:
        return CheckResult(
            name="index",
            ok=False,
            detail=f"{detail} (limit {max_lag_seconds:.0f} s)",
            fix="check the search engine, then `catalogue index drain`",
        )
    return CheckResult(name="index", ok=True, detail=detail)


def readiness(settings: Settings, store: Store) -> list[CheckResult]:
    """What `/ready` reports: the store, the search engine, and how far the index lags."""
    store_check = check_store(store)
    checks = [store_check, check_search(settings)]
    if store_check.ok:
        checks.append(check_index_lag(store, settings.ready_max_index_lag_seconds))
    return checks
