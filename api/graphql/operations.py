"""Operations: who is asking, the sources feeding the node and their harvest runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry

from api.graphql import relay
from api.graphql.context import Context, blocking
from catalogue.errors import ErrorDetail, ValidationError
from catalogue.services.harvests import HarvestStarted, RunView, SourceView

Info = strawberry.Info[Context, None]


@strawberry.enum
class RunStatus(Enum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


@strawberry.type(description="A record a harvest could not take, and why (never header values).")
class RunError:
    native_id: str | None
    reason: str


@strawberry.type(description="One harvest of one source.")
class HarvestRun:
    id: strawberry.ID
    source: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    complete: bool = strawberry.field(description="The source was walked to its end.")
    seen: int
    added: int
    updated: int
    unchanged: int
    deleted: int
    failed: int
    errors: list[RunError] | None = strawberry.field(
        description="Why records failed (administrators only; null for others)."
    )

    @classmethod
    def of(cls, r: RunView) -> HarvestRun:
        data = r.model_dump(exclude={"id", "status", "errors"})
        errors = [RunError(**e.model_dump()) for e in r.errors] if r.errors is not None else None
        return cls(
            id=strawberry.ID(str(r.id)), status=RunStatus(r.status.value), errors=errors, **data
        )


@strawberry.type(description="A system this node harvests, and how fresh its records are.")
class Source:
    name: str
    kind: str
    site_slug: str | None
    description: str
    enabled: bool
    configured: bool = strawberry.field(description="Listed in the sources file now.")
    harvesting: bool = strawberry.field(description="A harvest started by this node is running.")
    last_run: HarvestRun | None
    last_success_at: datetime | None
    bookmark_at: datetime | None

    @classmethod
    def of(cls, s: SourceView) -> Source:
        data = s.model_dump(exclude={"last_run"})
        return cls(last_run=HarvestRun.of(s.last_run) if s.last_run else None, **data)

    @strawberry.field(description="Seconds since the last successful run (null if none).")
    def freshness_seconds(self) -> float | None:
        if self.last_success_at is None:
            return None
        from catalogue.models import utcnow

        return (utcnow() - self.last_success_at).total_seconds()


@strawberry.type(description="A harvest was started; follow it with `harvestRuns(source:)`.")
class HarvestStart:
    source: str
    started_at: datetime

    @classmethod
    def of(cls, s: HarvestStarted) -> HarvestStart:
        return cls(source=s.source, started_at=s.started_at)


async def sources(info: Info, first: int | None, after: str | None) -> relay.Connection[Source]:
    found = await blocking(info.context.services.harvests.sources, info.context.identity)
    return relay.sliced([Source.of(s) for s in found], lambda s: s.name, first, after)


async def harvest_runs(
    info: Info, source: str | None, first: int | None, after: str | None
) -> relay.Connection[HarvestRun]:
    """Newest first; the cursor is the start time and id of the last run seen."""
    service = info.context.services.harvests
    size = relay.page_size(first)
    before = _position(relay.decode(after))
    runs, more = await blocking(service.runs, info.context.identity, source, size, before)

    async def counter() -> int:
        return await blocking(service.run_count, source)

    return relay.connection(
        [HarvestRun.of(r) for r in runs],
        [relay.encode([r.started_at.isoformat(), str(r.id)]) for r in runs],
        has_next=more,
        has_previous=after is not None,
        counter=counter,
    )


def _position(value: object) -> tuple[datetime, uuid.UUID] | None:
    if value is None:
        return None
    bad = ValidationError("invalid cursor", [ErrorDetail("not a cursor", "after")])
    if not isinstance(value, list) or len(value) != 2:
        raise bad
    try:
        return datetime.fromisoformat(str(value[0])), uuid.UUID(str(value[1]))
    except ValueError:
        raise bad from None


async def start_harvest(info: Info, source: str) -> HarvestStart:
    started = await blocking(info.context.services.harvests.start, info.context.identity, source)
    return HarvestStart.of(started)
