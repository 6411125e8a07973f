"""The indexer: drains the outbox into the search backend, reports lag, rebuilds.

Delivery is at-least-once and in order per record: a batch of outbox entries is read in id order,
turned into the documents of the records they name *as the store holds them now*, written, and
only then deleted. Entries carry no payload, so applying one twice, or late, converges on the
store's current state. If the engine is down, `drain` raises `SearchUnavailableError` and every
entry stays for the next attempt; catalogue writes never wait for the engine.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, delete, select

from catalogue.errors import CatalogueError, ConflictError, SearchUnavailableError
from catalogue.models import (
    Collection,
    ImagingStudy,
    OutboxEntry,
    OutboxOp,
    Series,
    Subject,
    utcnow,
)
from catalogue.search._lock import indexer_lock
from catalogue.search.backend import IndexInfo, IndexWriter, SearchBackend
from catalogue.search.documents import DocRef, Dump, Dumper, count_subjects, dump_all
from catalogue.search.fields import Kind
from catalogue.store import Store

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (subjects done, subjects in all)
FANOUT = 500  # subjects dumped at a time when a collection change touches all of them


class DrainReport(BaseModel):
    entries: int = 0  # outbox entries applied and removed
    documents: int = 0  # documents written
    deletions: int = 0
    batches: int = 0
    busy: bool = False  # another indexer held the lock: nothing was done


class IndexStatus(BaseModel):
    backend: str
    pending: int  # outbox entries not yet applied
    oldest_pending_at: datetime | None
    lag_seconds: float  # age of the oldest pending entry (0 when up to date)
    documents: dict[str, int] = {}
    index: str | None = None
    size_bytes: int | None = None
    error: str | None = None  # why the engine could not be asked


class RebuildReport(BaseModel):
    subjects: int
    documents: int
    drained: DrainReport


@dataclass
class _Plan:
    """What a batch of entries asks for: records to re-dump and documents to delete outright."""

    subjects: set[uuid.UUID] = field(default_factory=set)
    collections: set[uuid.UUID] = field(default_factory=set)
    datasets: set[uuid.UUID] = field(default_factory=set)
    deletes: list[DocRef] = field(default_factory=list)


class Indexer:
    def __init__(self, store: Store, backend: SearchBackend, batch_size: int = 500) -> None:
        self.store, self.backend, self.batch_size = store, backend, batch_size

    def drain(self, max_batches: int | None = None) -> DrainReport:
        """Apply pending outbox entries until none are left (or `max_batches`)."""
        with indexer_lock(self.store) as got:
            if not got:
                return DrainReport(busy=True)
            return self._drain(max_batches)

    def _drain(self, max_batches: int | None) -> DrainReport:
        report = DrainReport()
        self.backend.ensure()
        while max_batches is None or report.batches < max_batches:
            with self.store.session() as session:
                entries = session.exec(
                    select(OutboxEntry).order_by(col(OutboxEntry.id)).limit(self.batch_size)
                ).all()
                if not entries:
                    break
                ids = [e.id for e in entries]
                plan = _plan(session, entries)
            written = self._apply(plan, self.backend)
            with self.store.session() as session:
                session.exec(delete(OutboxEntry).where(col(OutboxEntry.id).in_(ids)))
            report.entries += len(ids)
            report.documents += written[0]
            report.deletions += written[1]
            report.batches += 1
        if report.entries:
            self.backend.refresh()
        return report

    def _apply(self, plan: _Plan, writer: IndexWriter) -> tuple[int, int]:
        """Write the plan's documents; subjects go a chunk at a time (a collection change can
        touch all of its subjects)."""
        with self.store.session() as session:
            dumper = Dumper(session)
            dump = Dump(deletes=list(plan.deletes))
            dump.extend(dumper.collections(sorted(plan.collections)))
            dump.extend(dumper.datasets(sorted(plan.datasets)))
            subjects = sorted(plan.subjects | _fan_out(session, plan.collections))
            docs, deletions = _write(writer, dump)
            for start in range(0, len(subjects), FANOUT):
                more = _write(writer, dumper.subjects(subjects[start : start + FANOUT]))
                docs, deletions = docs + more[0], deletions + more[1]
        return docs, deletions

    def status(self) -> IndexStatus:
        with self.store.session() as session:
            pending, oldest = session.exec(
                select(sa.func.count(), sa.func.min(OutboxEntry.created_at)).select_from(
                    OutboxEntry
                )
            ).one()
        oldest_at = _aware(oldest)
        lag = (utcnow() - oldest_at).total_seconds() if oldest_at else 0.0
        status = IndexStatus(
            backend=self.backend.name, pending=pending, oldest_pending_at=oldest_at, lag_seconds=lag
        )
        try:
            info: IndexInfo = self.backend.info()
        except CatalogueError as exc:
            status.error = exc.message
        else:
            status.documents, status.index, status.size_bytes = (
                info.documents,
                info.name,
                info.size_bytes,
            )
        return status

    def rebuild(self, progress: Progress | None = None, wait_s: float = 60.0) -> RebuildReport:
        """Rebuild the index from the store into a new index and swap it in; then drain the
        changes made meanwhile. Searches use the old index until the swap."""
        with indexer_lock(self.store, wait_s=wait_s) as got:
            if not got:
                raise ConflictError("another indexer is running: try again when it has finished")
            total = count_subjects(self.store)
            written = {"subjects": 0, "documents": 0}

            def fill(writer: IndexWriter) -> None:
                for dump in dump_all(self.store):
                    writer.index(dump.docs)
                    written["documents"] += len(dump.docs)
                    written["subjects"] += sum(1 for d in dump.docs if d.kind == "subjects")
                    if progress is not None:
                        progress(written["subjects"], total)

            self.backend.rebuild(fill)
            drained = self._drain(None)
        return RebuildReport(
            subjects=written["subjects"], documents=written["documents"], drained=drained
        )

    def run(
        self, stop: threading.Event, interval_s: float = 2.0, max_backoff_s: float = 60.0
    ) -> None:
        """Drain until `stop` is set: every `interval_s`, backing off while the engine is down.
        An index laid out by another version of the node is rebuilt first (it is derived data;
        searches answer "search unavailable" until the rebuild swaps in)."""
        wait, current = interval_s, False
        while not stop.is_set():
            try:
                if not current and self.backend.outdated():
                    log.warning("the search index was built by another version: rebuilding it")
                    self.rebuild()
                current = True
                self.drain()
                wait = interval_s
            except SearchUnavailableError as exc:
                log.warning("indexing paused: %s", exc.message)
                wait = min(wait * 2, max_backoff_s)
            except Exception:  # a background worker must outlive a bad batch; it retries later
                log.exception("indexing failed; retrying")
                wait = min(wait * 2, max_backoff_s)
            stop.wait(wait)


def _write(writer: IndexWriter, dump: Dump) -> tuple[int, int]:
    if dump.docs:
        writer.index(dump.docs)
    if dump.deletes:
        writer.delete(dump.deletes)
    return len(dump.docs), len(dump.deletes)


def _plan(session: Session, entries: Sequence[OutboxEntry]) -> _Plan:
    plan = _Plan()
    by_kind: dict[str, set[uuid.UUID]] = {}
    for entry in entries:
        by_kind.setdefault(entry.entity_type, set()).add(entry.entity_id)
        if entry.op is OutboxOp.DELETE:
            doc_kind = _DOC_KIND.get(entry.entity_type)
            if doc_kind is not None:
                plan.deletes.append((doc_kind, str(entry.entity_id)))
    plan.collections = by_kind.get("collection", set())
    plan.datasets = by_kind.get("dataset", set())
    plan.subjects = set(by_kind.get("subject", set()))
    for model, kind, doc_kind in _CHILDREN:
        wanted = by_kind.get(kind, set())
        found = _subjects_of(session, model, wanted)
        plan.subjects |= set(found.values())
        plan.deletes += [(doc_kind, str(i)) for i in wanted - found.keys()]  # gone from the store
    return plan


_DOC_KIND: dict[str, Kind] = {
    "collection": "collections",
    "subject": "subjects",
    "imaging_study": "studies",
    "series": "series",
    "dataset": "datasets",
}
_CHILDREN: list[tuple[type[ImagingStudy] | type[Series], str, Kind]] = [
    (ImagingStudy, "imaging_study", "studies"),
    (Series, "series", "series"),
]


def _subjects_of(
    session: Session, model: type[ImagingStudy] | type[Series], ids: set[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    found: dict[uuid.UUID, uuid.UUID] = {}
    listed = sorted(ids)
    for start in range(0, len(listed), 500):
        chunk = listed[start : start + 500]
        found.update(
            session.exec(select(model.id, model.subject_id).where(col(model.id).in_(chunk))).all()
        )
    return found


def _fan_out(session: Session, collections: set[uuid.UUID]) -> set[uuid.UUID]:
    """Subjects of changed collections (their documents copy the collection's visibility)."""
    if not collections:
        return set()
    live = select(Collection.id).where(col(Collection.id).in_(sorted(collections)))
    found = session.exec(select(Subject.id).where(col(Subject.collection_id).in_(live))).all()
    return set(found)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
