"""The change feed: every create, update and delete of a published record since a cursor, in
commit order, each with the record as the store holds it now and its provenance.

A peer (another node's `peer` harvester, signed in with the API key this node issued to it)
reads it page by page. Cursors are positions in the change log, so they stay valid across
restarts. A record changed several times since the cursor appears once, at its last change. A
peer gets the records of the collections it may read at record level (`catalogue/access.py`:
public ones, registered ones, and what grants give it); an aggregate-only or private collection
exports no records, and a collection the peer can no longer read is announced as deleted so that
the peer drops it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from catalogue.access import Identity
from catalogue.errors import ErrorDetail, PermissionDeniedError, ValidationError
from catalogue.grants import readable_collections
from catalogue.models import (
    PUBLISHED,
    ChangeEntry,
    CodedValue,
    Collection,
    Harvested,
    HarvestRun,
    ImagingStudy,
    Series,
    Site,
    Source,
    Subject,
)
from catalogue.store import Store

MAX_PAGE = 1000
CURSOR_DIGITS = 20
ChangeKind = Literal["collection", "subject", "study", "series"]
_KIND: dict[str, ChangeKind] = {
    "collection": "collection",
    "subject": "subject",
    "imaging_study": "study",
    "series": "series",
}
_MODELS: dict[str, type[Harvested]] = {name: model for model, name in PUBLISHED.items()}  # type: ignore[misc]
# columns that are the store's own bookkeeping, or named again as IRIs or provenance
_INTERNAL = frozenset(
    {
        "id", "iri", "source_id", "site_id", "collection_id", "subject_id", "study_id",
        "first_seen_run_id", "last_seen_run_id", "first_seen_at", "last_seen_at",
        "content_hash", "deidentification_profile", "missing_runs", "deleted_at",
        "created_at", "updated_at",
    }
)  # fmt: skip


class Provenance(BaseModel):
    site: str  # slug of the site the record belongs to
    source: str  # the source it was harvested from, at that site
    native_id: str
    first_seen_at: datetime
    last_seen_at: datetime
    content_hash: str
    harvest_run: str | None  # IRI of the run that last saw it
    deidentification_profile: str | None


class Change(BaseModel):
    cursor: str  # resume after this change
    op: Literal["upsert", "delete"]
    kind: ChangeKind
    iri: str
    changed_at: datetime
    parents: dict[str, str] = Field(default_factory=dict)  # collection / subject / study → IRI
    record: dict[str, Any] | None = None  # the record's fields (upserts only)
    coded: list[dict[str, Any]] = Field(default_factory=list)  # coded fields as the site wrote them
    provenance: Provenance | None = None


class ChangePage(BaseModel):
    changes: list[Change]
    end_cursor: str | None  # the cursor to pass next (the one given when nothing changed)
    has_next_page: bool


class ChangeFeed:
    def __init__(self, store: Store) -> None:
        self.store = store

    def changes(self, identity: Identity, after: str | None = None, first: int = 100) -> ChangePage:
        if not 1 <= first <= MAX_PAGE:
            raise ValidationError(f"first must be between 1 and {MAX_PAGE}")
        if identity.is_anonymous:
            raise PermissionDeniedError("the change feed is for peers: sign in with an API key")
        position = decode_cursor(after)
        with self.store.session() as session:
            entries = _latest_entries(session, position, first + 1)
            more, entries = len(entries) > first, entries[:first]
            rows = _load(session, entries)
            context = _Context.load(session, rows.values())
            readable = readable_collections(session.connection(), identity)
            changes = [
                _change(entry, rows.get(entry.entity_id), context, readable) for entry in entries
            ]
        end = _cursor(entries[-1]) if entries else after
        return ChangePage(
            changes=[c for c in changes if c is not None], end_cursor=end, has_next_page=more
        )


def _cursor(entry: ChangeEntry) -> str:
    """Zero-padded, so cursors compare as strings the way their positions do."""
    return f"{entry.seq:0{CURSOR_DIGITS}d}"


def decode_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > CURSOR_DIGITS:
        raise ValidationError("not a change-feed cursor", [ErrorDetail("not a cursor", "after")])
    return int(cursor)


def _latest_entries(session: Session, after: int, limit: int) -> list[ChangeEntry]:
    """Entries after `after`, skipping those a later entry of the same record supersedes."""
    later = sa.orm.aliased(ChangeEntry)
    superseded = (
        select(later.seq)
        .where(later.entity_type == ChangeEntry.entity_type)
        .where(later.entity_id == ChangeEntry.entity_id)
        .where(col(later.seq) > col(ChangeEntry.seq))
        .exists()
    )
    query = (
        select(ChangeEntry)
        .where(col(ChangeEntry.seq) > after, ~superseded)
        .order_by(col(ChangeEntry.seq))
        .limit(limit)
    )
    return list(session.exec(query))


def _load(session: Session, entries: Sequence[ChangeEntry]) -> dict[uuid.UUID, Harvested]:
    wanted: dict[str, set[uuid.UUID]] = {}
    for entry in entries:
        wanted.setdefault(entry.entity_type, set()).add(entry.entity_id)
    rows: dict[uuid.UUID, Harvested] = {}
    for kind, ids in wanted.items():
        model = _MODELS[kind]
        rows.update({r.id: r for r in session.exec(select(model).where(col(model.id).in_(ids)))})
    return rows


class _Context:
    """What the changes of one page refer to, fetched in a few queries."""

    def __init__(self) -> None:
        self.collections: dict[uuid.UUID, Collection] = {}
        self.iris: dict[uuid.UUID, str] = {}  # parents' IRIs
        self.sources: dict[uuid.UUID, tuple[str, str]] = {}  # source id → (site slug, name)
        self.runs: dict[uuid.UUID, str] = {}
        self.coded: dict[uuid.UUID, list[dict[str, Any]]] = {}

    @classmethod
    def load(cls, session: Session, rows: Iterable[Harvested]) -> _Context:
        ctx, rows = cls(), list(rows)
        collections = {getattr(r, "collection_id", r.id) for r in rows}
        ctx.collections = _by_id(session, Collection, collections)
        parents = {getattr(r, f, None) for r in rows for f in ("subject_id", "study_id")}
        for model in (Subject, ImagingStudy):
            ctx.iris |= {i: r.iri or "" for i, r in _by_id(session, model, parents).items()}
        ctx.iris |= {i: c.iri or "" for i, c in ctx.collections.items()}
        query = select(Source.id, Site.slug, Source.name).join(
            Site, col(Site.id) == col(Source.site_id)
        )
        ids = {r.source_id for r in rows}
        for source_id, slug, name in session.exec(query.where(col(Source.id).in_(ids))):
            ctx.sources[source_id] = (slug, name)
        runs = {r.last_seen_run_id for r in rows if r.last_seen_run_id}
        for run in _by_id(session, HarvestRun, runs).values():
            ctx.runs[run.id] = run.iri or ""
        entities = [r.id for r in rows if isinstance(r, Subject | Series)]
        coded = select(CodedValue).where(col(CodedValue.entity_id).in_(entities))
        for value in session.exec(coded.order_by(col(CodedValue.field), col(CodedValue.id))):
            ctx.coded.setdefault(value.entity_id, []).append(
                {"field": value.field, "original": value.original_value}
            )
        return ctx


def _by_id(session: Session, model: Any, ids: set[Any]) -> dict[uuid.UUID, Any]:
    ids.discard(None)
    if not ids:
        return {}
    return {r.id: r for r in session.exec(select(model).where(col(model.id).in_(ids)))}


def _change(
    entry: ChangeEntry, row: Harvested | None, ctx: _Context, readable: frozenset[uuid.UUID]
) -> Change | None:
    kind = _KIND[entry.entity_type]
    collection = ctx.collections.get(getattr(row, "collection_id", entry.entity_id))
    cursor, at = _cursor(entry), entry.changed_at
    if row is None or collection is None or row.iri is None:
        return None  # never committed in a form a peer saw, or removed outright
    exported = collection.id in readable
    if not exported and kind != "collection":
        return None  # a hidden collection's records are not even announced
    if not exported or row.deleted_at is not None or collection.deleted_at is not None:
        return Change(cursor=cursor, op="delete", kind=kind, iri=row.iri, changed_at=at)
    site, source = ctx.sources[row.source_id]
    fields = row.model_dump(mode="json", exclude=set(_INTERNAL))
    parents = {
        name: ctx.iris[pid]
        for name, attr in (("collection", "collection_id"), ("subject", "subject_id"))
        if (pid := getattr(row, attr, None)) is not None
    }
    if (study := getattr(row, "study_id", None)) is not None:
        parents["study"] = ctx.iris[study]
    provenance = Provenance(
        site=site,
        source=source,
        native_id=row.native_id,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        content_hash=row.content_hash,
        harvest_run=ctx.runs.get(row.last_seen_run_id) if row.last_seen_run_id else None,
        deidentification_profile=row.deidentification_profile,
    )
    return Change(
        cursor=cursor,
        op="upsert",
        kind=kind,
        iri=row.iri,
        changed_at=at,
        parents=parents,
        record=fields,
        coded=ctx.coded.get(row.id, []),
        provenance=provenance,
    )
