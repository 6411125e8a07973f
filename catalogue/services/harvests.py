"""Sources and their harvest runs as users see them, and starting a harvest (administrators).

Anyone may see which sources feed the node, how fresh each is and how its runs went; the reasons
recorded for bad records are shown to administrators only. Starting a harvest hands the source to
a launcher the composition root provides (the harvest runner lives above the catalogue), which
runs it in the background; one source is never harvested twice at once by this node.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from catalogue.access import Identity
from catalogue.errors import ConflictError, NotFoundError, PermissionDeniedError
from catalogue.models import HarvestRun, RunStatus, Site, Source, utcnow
from catalogue.sources import SourceSpec
from catalogue.store import Store

MAX_PAGE = 100

Launcher = Callable[[SourceSpec], None]  # runs one harvest to its end (in the caller's thread)


class RunError(BaseModel):
    native_id: str | None
    reason: str


class RunView(BaseModel):
    id: uuid.UUID
    source: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    complete: bool
    seen: int
    added: int
    updated: int
    unchanged: int
    deleted: int
    failed: int
    errors: list[RunError] | None  # None: not shown to this caller


class SourceView(BaseModel):
    name: str
    kind: str
    site_slug: str | None
    description: str
    enabled: bool
    configured: bool  # listed in the sources file now (a removed source keeps its history)
    harvesting: bool  # a harvest started here is running
    last_run: RunView | None
    last_success_at: datetime | None
    bookmark_at: datetime | None


class HarvestStarted(BaseModel):
    source: str
    started_at: datetime


def is_admin(identity: Identity) -> bool:
    return "admin" in identity.roles


class HarvestService:
    def __init__(
        self,
        store: Store,
        specs: Callable[[], Sequence[SourceSpec]],
        launcher: Launcher | None = None,
    ) -> None:
        self.store = store
        self.specs = specs
        self.launcher = launcher
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def sources(self, identity: Identity) -> list[SourceView]:
        """Configured and previously harvested sources, by name."""
        specs = {s.name: s for s in self.specs()}
        with self.store.session() as session:
            stored = {
                s.name: (s, slug)
                for s, slug in session.exec(
                    select(Source, Site.slug).join(Site, col(Site.id) == col(Source.site_id))
                ).all()
            }
            ids = [s.id for s, _ in stored.values()]
            last = _last_runs(session, ids, None)
            success = _last_runs(session, ids, RunStatus.SUCCEEDED)
        views = []
        for name in sorted(set(specs) | set(stored)):
            spec = specs.get(name)
            source, slug = stored.get(name, (None, None))
            run = last.get(source.id) if source else None
            ok = success.get(source.id) if source else None
            views.append(
                SourceView(
                    name=name,
                    kind=spec.kind if spec else source.kind if source else "",
                    site_slug=slug,
                    description=spec.description if spec else "",
                    enabled=spec.enabled if spec else False,
                    configured=spec is not None,
                    harvesting=name in self._running,
                    last_run=_view(run, name, identity) if run else None,
                    last_success_at=ok.finished_at if ok else None,
                    bookmark_at=source.bookmark_at if source else None,
                )
            )
        return views

    def runs(
        self,
        identity: Identity,
        source: str | None,
        first: int,
        before: tuple[datetime, uuid.UUID] | None = None,
    ) -> tuple[list[RunView], bool]:
        """Runs, newest first (after the run `before` = (start, id) in that order), and whether
        older ones follow."""
        first = max(0, min(first, MAX_PAGE))
        query = (
            select(HarvestRun, Source.name)
            .join(Source, col(Source.id) == col(HarvestRun.source_id))
            .order_by(col(HarvestRun.started_at).desc(), col(HarvestRun.id).desc())
            .limit(first + 1)
        )
        if source is not None:
            query = query.where(Source.name == source)
        if before is not None:
            started, run_id = before
            query = query.where(
                sa.or_(
                    col(HarvestRun.started_at) < started,
                    sa.and_(col(HarvestRun.started_at) == started, col(HarvestRun.id) < run_id),
                )
            )
        with self.store.session() as session:
            rows = session.exec(query).all()
        views = [_view(run, name, identity) for run, name in rows[:first]]
        return views, len(rows) > first

    def run_count(self, source: str | None) -> int:
        query = select(func.count()).select_from(HarvestRun)
        if source is not None:
            query = query.join(Source, col(Source.id) == col(HarvestRun.source_id)).where(
                Source.name == source
            )
        with self.store.session() as session:
            return int(session.exec(query).one())

    def start(self, identity: Identity, name: str) -> HarvestStarted:
        """Start harvesting a configured source in the background (administrators only)."""
        if not is_admin(identity):
            raise PermissionDeniedError("only administrators may start harvests")
        spec = next((s for s in self.specs() if s.name == name), None)
        if spec is None:
            raise NotFoundError(f"no configured source named {name!r}")
        if self.launcher is None:
            raise ConflictError("this node cannot start harvests")
        launcher = self.launcher
        with self._lock:
            if name in self._running:
                raise ConflictError(f"source {name!r} is being harvested: wait for that run")
            self._running.add(name)

        def work() -> None:
            try:
                launcher(spec)
            finally:
                with self._lock:
                    self._running.discard(name)

        thread = threading.Thread(target=work, name=f"harvest-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return HarvestStarted(source=name, started_at=utcnow())

    def wait(self, timeout_s: float | None = None) -> None:
        """Wait for the harvests started here (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout_s)
        self._threads = [t for t in self._threads if t.is_alive()]


def _last_runs(
    session: Session, source_ids: list[uuid.UUID], status: RunStatus | None
) -> dict[uuid.UUID, HarvestRun]:
    """The newest run (of `status`, if given) of each source, in one query."""
    if not source_ids:
        return {}
    order = (col(HarvestRun.started_at).desc(), col(HarvestRun.id).desc())
    rank = func.row_number().over(partition_by=col(HarvestRun.source_id), order_by=order)
    inner = select(HarvestRun, rank.label("rank")).where(col(HarvestRun.source_id).in_(source_ids))
    if status is not None:
        inner = inner.where(HarvestRun.status == status)
    sub = inner.subquery()
    newest = aliased(HarvestRun, sub)
    return {run.source_id: run for run in session.exec(select(newest).where(sub.c.rank == 1))}


def _view(run: HarvestRun, source: str, identity: Identity) -> RunView:
    errors = None
    if is_admin(identity):
        errors = [
            RunError(native_id=e.get("native_id"), reason=e.get("reason", "")) for e in run.errors
        ]
    return RunView(
        id=run.id,
        source=source,
        status=run.status,
        started_at=run.started_at,
        finished_at=run.finished_at,
        complete=run.complete,
        seen=run.seen,
        added=run.added,
        updated=run.updated,
        unchanged=run.unchanged,
        deleted=run.deleted,
        failed=run.failed,
        errors=errors,
    )
