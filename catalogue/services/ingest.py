"""Writing harvested records: upserts on `(source, native_id)`, provenance, runs and deletions.

At-least-once safe: writing the same record twice leaves the store as writing it once, so a run
that crashed anywhere is repaired by running again. Each batch is one transaction; a run's
bookmark moves only when the run finishes without failures.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from catalogue.errors import NotFoundError
from catalogue.models import (
    CodedValue,
    Collection,
    Dataset,
    DoiState,
    Harvested,
    HarvestRun,
    ImagingStudy,
    RunStatus,
    Series,
    Site,
    Source,
    Subject,
    utcnow,
)
from catalogue.records import (
    CollectionRecord,
    Cursor,
    DatasetRecord,
    Deleted,
    Record,
    RecordKind,
    SeriesRecord,
    SubjectRecord,
)
from catalogue.services.coding import CodedRow, CodingService, new_row
from catalogue.store import Store

# A harvested dataset is a `Dataset` with provenance columns (our own have none of them).
Model = type[Harvested] | type[Dataset]
MODELS: dict[RecordKind, Model] = {
    "collection": Collection,
    "subject": Subject,
    "study": ImagingStudy,
    "series": Series,
    "dataset": Dataset,
}
PARENTS: dict[RecordKind, tuple[RecordKind, ...]] = {
    "collection": (),
    "subject": ("collection",),
    "study": ("collection", "subject"),
    "series": ("collection", "subject", "study"),
    "dataset": (),
}
WRITE_ORDER: tuple[RecordKind, ...] = ("collection", "subject", "study", "series", "dataset")
MAX_STORED_ERRORS = 1000
SUBJECT_CODED = {"species": "species", "diagnoses": "diagnosis"}


@dataclass
class RunHandle:
    """An open harvest run, and the ids of the records it has resolved so far."""

    run_id: uuid.UUID
    source_id: uuid.UUID
    site_id: uuid.UUID
    since: Cursor
    ids: dict[tuple[RecordKind, str], uuid.UUID] = field(default_factory=dict)
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "added": 0,
            "updated": 0,
            "unchanged": 0,
            "failed": 0,
            "deleted": 0,
        }
    )


@dataclass(frozen=True)
class DeletionPolicy:
    after_missed_runs: int = 2  # consecutive complete runs that must miss a record
    failsafe_ratio: float = 0.5  # skip deletions when a run saw fewer than this times the last one


def content_hash(record: Record) -> str:
    return hashlib.sha256(record.model_dump_json(exclude={"cursor"}).encode()).hexdigest()


class IngestService:
    def __init__(self, store: Store, coding: CodingService | None = None) -> None:
        """Without a coding service, species and diagnoses are kept raw and unmapped."""
        self.store = store
        self.coding = coding

    def start_run(self, source: str, kind: str, site_slug: str) -> RunHandle:
        """Open a run; runs of this source left `running` by a crash are closed as failed."""
        with self.store.session() as session:
            site = session.exec(select(Site).where(Site.slug == site_slug)).first()
            if site is None:
                raise NotFoundError(f"site {site_slug!r} is not registered")
            row = session.exec(select(Source).where(Source.name == source)).first()
            if row is None:
                row = Source(name=source, kind=kind, site_id=site.id)
                session.add(row)
                session.flush()
            row.kind = kind
            for stale in session.exec(
                select(HarvestRun).where(
                    HarvestRun.source_id == row.id, HarvestRun.status == RunStatus.RUNNING
                )
            ):
                stale.status, stale.finished_at = RunStatus.FAILED, utcnow()
                stale.errors = [*stale.errors, {"native_id": "", "reason": "interrupted"}]
            if self.coding is not None:  # decisions made since this process loaded them
                self.coding.load_decisions(session)
            since = (row.bookmark or {}).get("cursor")
            run = HarvestRun(source_id=row.id, cursor_from={"cursor": since})
            session.add(run)
            return RunHandle(run_id=run.id, source_id=row.id, site_id=site.id, since=since)

    def write(
        self, handle: RunHandle, records: Sequence[Record | Deleted]
    ) -> list[tuple[str, str]]:
        """Upsert a batch (and soft-delete what the source said is gone) in one transaction;
        returns `(native_id, reason)` for records refused."""
        refused: list[tuple[str, str]] = []
        with self.store.session() as session:
            for kind in WRITE_ORDER:
                batch = [r for r in records if r.kind == kind]
                if batch:
                    refused += self._upsert(session, handle, kind, batch)
        handle.counts["failed"] += len(refused)
        return refused

    def _upsert(
        self,
        session: Session,
        handle: RunHandle,
        kind: RecordKind,
        items: Sequence[Record | Deleted],
    ) -> list[tuple[str, str]]:
        model = MODELS[kind]
        latest = {r.native_id: r for r in items}  # a batch may repeat a parent; the last wins
        existing = {
            row.native_id: row
            for row in _select(
                session,
                model,
                model.source_id == handle.source_id,
                col(model.native_id).in_(list(latest)),
            )
        }
        refused: list[tuple[str, str]] = []
        written: list[tuple[uuid.UUID, Record, bool]] = []  # (id, record, new)
        for native_id, record in latest.items():
            if isinstance(record, Deleted):
                gone = existing.get(native_id)
                if gone is not None and gone.deleted_at is None:
                    gone.deleted_at, gone.last_seen_run_id = utcnow(), handle.run_id
                    handle.counts["deleted"] += 1
                continue
            parents = self._parents(session, handle, record)
            if isinstance(parents, str):
                refused.append((native_id, parents))
                continue
            digest = content_hash(record)
            row = existing.get(native_id)
            if row is not None and row.content_hash == digest and row.deleted_at is None:
                if (kind, native_id) not in handle.ids:
                    handle.counts["unchanged"] += 1
            else:
                values = {
                    **_fields(record),
                    **parents,
                    **_catalogue_values(handle, record),
                    "content_hash": digest,
                    "last_seen_run_id": handle.run_id,
                    "last_seen_at": utcnow(),
                    "deleted_at": None,
                    "missing_runs": 0,
                }
                new = row is None
                if row is None:
                    row = model(
                        source_id=handle.source_id,
                        native_id=native_id,
                        first_seen_run_id=handle.run_id,
                        **values,
                    )
                    session.add(row)
                    handle.counts["added"] += 1
                else:
                    for name, value in values.items():
                        setattr(row, name, value)
                    handle.counts["updated"] += 1
                written.append((row.id, record, new))
            handle.ids[(kind, native_id)] = row.id
        session.flush()
        if kind in ("subject", "series"):
            self._replace_coded(session, kind, written)
        return refused

    def _replace_coded(
        self, session: Session, kind: RecordKind, written: list[tuple[uuid.UUID, Record, bool]]
    ) -> None:
        """The coded values of written records, mapped anew (old rows of updated ones go)."""
        entity_type = "subject" if kind == "subject" else "series"
        stale = [id_ for id_, _, new in written if not new]
        for chunk in _chunks(stale):
            session.exec(
                delete(CodedValue).where(
                    col(CodedValue.entity_type) == entity_type, col(CodedValue.entity_id).in_(chunk)
                )
            )
        rows: list[CodedRow] = []
        for id_, record, _ in written:
            if isinstance(record, SubjectRecord):
                rows += (
                    self.coding.subject_values(id_, record) if self.coding else _raw(id_, record)
                )
            elif isinstance(record, SeriesRecord) and self.coding is not None:
                rows += self.coding.series_values(id_, record)
        if rows:
            session.exec(insert(CodedValue), params=rows)

    def _parents(self, session: Session, handle: RunHandle, record: Record) -> dict[str, Any] | str:
        """Foreign keys of a record from its parents' native ids, or why they cannot be found."""
        if isinstance(record, CollectionRecord):
            return {"site_id": handle.site_id}
        found: dict[str, Any] = {}
        for parent in PARENTS[record.kind]:
            native_id = getattr(record, parent)
            parent_id = handle.ids.get((parent, native_id)) or self._lookup(
                session, handle, parent, native_id
            )
            if parent_id is None:
                return f"its {parent} was not harvested"
            found[f"{parent}_id"] = parent_id
        return found

    def _lookup(
        self, session: Session, handle: RunHandle, kind: RecordKind, native_id: str
    ) -> uuid.UUID | None:
        model = MODELS[kind]
        found = session.exec(
            select(model.id).where(
                model.source_id == handle.source_id, model.native_id == native_id
            )
        ).first()
        if found is not None:
            handle.ids[(kind, native_id)] = found
        return found

    def finish(
        self,
        handle: RunHandle,
        *,
        status: RunStatus,
        complete: bool,
        seen: dict[RecordKind, set[str]],
        cursor: Cursor,
        failures: Iterable[tuple[str, str]],
        policy: DeletionPolicy,
    ) -> HarvestRun:
        """Close the run: counts, errors, the bookmark (only without failures), deletions."""
        failures = list(failures)
        total_seen = sum(len(ids) for ids in seen.values())
        with self.store.session() as session:
            run = session.get(HarvestRun, handle.run_id)
            source = session.get(Source, handle.source_id)
            assert run is not None
            assert source is not None
            if failures and status is RunStatus.SUCCEEDED:
                status = RunStatus.PARTIAL
            run.errors = [{"native_id": n, "reason": r} for n, r in failures[:MAX_STORED_ERRORS]]
            if status is RunStatus.SUCCEEDED:
                source.bookmark, source.bookmark_at = {"cursor": cursor}, utcnow()
                run.cursor_to = {"cursor": cursor}
                if complete:
                    run.deleted = self._delete_missing(
                        session, handle, seen, total_seen, policy, run
                    )
            run.deleted += handle.counts["deleted"]
            run.status, run.complete, run.finished_at = status, complete, utcnow()
            run.seen, run.failed = total_seen, len(failures)
            run.added, run.updated = handle.counts["added"], handle.counts["updated"]
            run.unchanged = handle.counts["unchanged"]
            return run

    def _delete_missing(
        self,
        session: Session,
        handle: RunHandle,
        seen: dict[RecordKind, set[str]],
        total_seen: int,
        policy: DeletionPolicy,
        run: HarvestRun,
    ) -> int:
        previous = session.exec(
            select(HarvestRun.seen)
            .where(
                HarvestRun.source_id == handle.source_id,
                HarvestRun.complete == True,  # noqa: E712
                HarvestRun.status == RunStatus.SUCCEEDED,
            )
            .order_by(col(HarvestRun.finished_at).desc())
        ).first()
        if previous and total_seen < policy.failsafe_ratio * previous:
            run.errors = [
                *run.errors,
                {
                    "native_id": "",
                    "reason": (
                        f"deletions skipped: saw {total_seen} records, "
                        f"the last complete run {previous}"
                    ),
                },
            ]
            return 0
        deleted = 0
        for kind in reversed(WRITE_ORDER):
            deleted += _mark_missing(session, handle, MODELS[kind], seen.get(kind, set()), policy)
        return deleted


def _mark_missing(
    session: Session,
    handle: RunHandle,
    model: Model,
    seen: set[str],
    policy: DeletionPolicy,
) -> int:
    """Count a miss for every live record the run did not see; soft-delete at the threshold.

    Reads three columns, not whole rows, and updates in bulk: a complete run over 100,000
    unchanged records must stay cheap. Only soft deletes go through the ORM (and the outbox).
    """
    rows = session.exec(
        select(model.id, model.native_id, model.missing_runs).where(
            model.source_id == handle.source_id, col(model.deleted_at).is_(None)
        )
    ).all()
    reset = [id_ for id_, native_id, missed in rows if native_id in seen and missed]
    missed = [(id_, n) for id_, native_id, n in rows if native_id not in seen]
    doomed = [id_ for id_, n in missed if n + 1 >= policy.after_missed_runs]
    counted = [id_ for id_, n in missed if n + 1 < policy.after_missed_runs]
    for chunk in _chunks(reset):
        session.exec(update(model).where(col(model.id).in_(chunk)).values(missing_runs=0))
    for chunk in _chunks(counted):
        session.exec(
            update(model)
            .where(col(model.id).in_(chunk))
            .values(missing_runs=model.missing_runs + 1)
        )
    now = utcnow()
    for chunk in _chunks(doomed):
        for row in _select(session, model, col(model.id).in_(chunk)):
            row.missing_runs += 1
            row.deleted_at = now
    return len(doomed)


def _select(session: Session, model: Model, *where: Any) -> list[Harvested | Dataset]:
    """Rows of either kind of model (mypy sees only the base the two share otherwise)."""
    return cast(list[Harvested | Dataset], list(session.exec(select(model).where(*where))))


def _chunks(ids: Sequence[uuid.UUID], size: int = 500) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _catalogue_values(handle: RunHandle, record: Record) -> dict[str, Any]:
    """Columns the catalogue fills, not the record: a harvested dataset gets a stable slug and
    is findable (its partner publishes it); other records name their de-identification."""
    if isinstance(record, DatasetRecord):
        key = hashlib.sha256(f"{handle.source_id}\n{record.native_id}".encode()).hexdigest()
        return {"slug": f"partner-{key[:24]}", "state": DoiState.FINDABLE}
    return {"deidentification_profile": record.deidentification_profile}


def _fields(record: Record) -> dict[str, Any]:
    """The model columns a record fills (its parents are resolved separately)."""
    skip = {
        "native_id",
        "cursor",
        "kind",
        "deidentification_profile",
        "collection",
        "subject",
        "study",
        *SUBJECT_CODED,
    }
    values = {k: v for k, v in record.model_dump().items() if k not in skip}
    if isinstance(record, SeriesRecord):
        values["image_type"] = list(record.image_type)
        values["sop_class_uids"] = list(record.sop_class_uids)
    return values


def _raw(subject_id: uuid.UUID, record: SubjectRecord) -> list[CodedRow]:
    """Species and diagnoses as the site wrote them, unmapped (no ontology configured)."""
    raw = [("species", record.species)] + [("diagnosis", d) for d in record.diagnoses]
    return [
        new_row("subject", subject_id, name, original_value=value) for name, value in raw if value
    ]
