"""What one caller may learn from each collection, read live from the store, and the grants that
raise it. Every service that answers about records or counts asks `collection_access` (the index
may lag behind a visibility change or a grant; access never does).

Only admins and the curators of a collection's site grant or revoke access to it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from catalogue.access import Access, Identity, access_to, highest
from catalogue.errors import ErrorDetail, NotFoundError, PermissionDeniedError, ValidationError
from catalogue.models import (
    AccessEpoch,
    AccessGrant,
    Collection,
    GrantLevel,
    PrincipalKind,
    Site,
    Visibility,
    utcnow,
)
from catalogue.store import Store

_T = TypeVar("_T")


@dataclass(frozen=True)
class CollectionAccess:
    id: uuid.UUID
    title: str
    visibility: Visibility
    site_slug: str
    site_name: str
    access: Access


def collection_access(conn: Connection, identity: Identity) -> list[CollectionAccess]:
    """Every live collection with what `identity` may learn from it, in a stable order: one
    query, the caller's live grants joined in."""
    query = (
        sa.select(
            col(Collection.id),
            col(Collection.title),
            col(Collection.visibility),
            col(Site.slug),
            col(Site.name),
            col(AccessGrant.level),
        )
        .join(Site, col(Site.id) == col(Collection.site_id))
        .outerjoin(
            AccessGrant,
            sa.and_(col(AccessGrant.collection_id) == col(Collection.id), _held(identity)),
        )
        .where(col(Collection.deleted_at).is_(None))
        .order_by(col(Site.slug), col(Collection.title), col(Collection.id))
    )
    found: dict[uuid.UUID, CollectionAccess] = {}
    for i, title, vis, slug, name, level in conn.execute(query).all():
        granted = Access(GrantLevel(level).value) if level is not None else None
        here = CollectionAccess(i, title, vis, slug, name, access_to(identity, vis, slug, granted))
        if i not in found or highest(here.access, found[i].access) is not found[i].access:
            found[i] = here
    return list(found.values())


def _held(identity: Identity) -> sa.ColumnElement[bool]:
    """Grants the identity holds now (false for the anonymous, who holds none)."""
    principals = identity.principals()
    if not principals:
        return sa.false()
    match = sa.or_(
        *(
            sa.and_(col(AccessGrant.principal_kind) == kind, col(AccessGrant.principal) == name)
            for kind, name in principals
        )
    )
    live = sa.or_(col(AccessGrant.expires_at).is_(None), col(AccessGrant.expires_at) > utcnow())
    return sa.and_(match, live)


class AccessCache(Generic[_T]):
    """`collection_access` answers, as `convert` shapes them, kept per identity while the
    store's access epoch (moved by triggers on every grant, collection or site write that
    matters) stands still and none of the identity's grants has expired: one one-row read per
    call instead of the join. At most `budget` collection rows are kept, oldest answers go."""

    def __init__(self, convert: Callable[[list[CollectionAccess]], _T], budget: int = 100_000):
        self.convert, self.budget = convert, budget
        self._entries: dict[Identity, _Cached[_T]] = {}
        self._held = 0  # collection rows behind the kept answers
        self._lock = threading.Lock()

    def get(self, conn: Connection, identity: Identity) -> _T:
        epoch = conn.execute(_EPOCH).scalar_one()  # first: a later write can only force a miss
        now = utcnow()
        hit = self._entries.get(identity)
        if hit is not None and hit.epoch == epoch and (hit.until is None or now < hit.until):
            return hit.value
        rows = collection_access(conn, identity)
        entry = _Cached(epoch, _next_expiry(conn, identity), self.convert(rows), len(rows))
        with self._lock:
            old = self._entries.pop(identity, None)
            self._held += entry.rows - (old.rows if old else 0)
            self._entries[identity] = entry
            while self._held > self.budget and len(self._entries) > 1:
                self._held -= self._entries.pop(next(iter(self._entries))).rows
        return entry.value


@dataclass(frozen=True)
class _Cached(Generic[_T]):
    epoch: int
    until: datetime | None  # when the first of the identity's live grants expires
    value: _T
    rows: int


_EPOCH = sa.select(col(AccessEpoch.n)).where(col(AccessEpoch.id) == 1)


def _next_expiry(conn: Connection, identity: Identity) -> datetime | None:
    if not identity.principals():
        return None
    query = sa.select(sa.func.min(col(AccessGrant.expires_at))).where(_held(identity))
    found: datetime | None = conn.execute(query).scalar_one()
    return found


def readable_collections(conn: Connection, identity: Identity) -> frozenset[uuid.UUID]:
    """Collections whose records `identity` may read."""
    return frozenset(c.id for c in collection_access(conn, identity) if c.access is Access.RECORDS)


def granted_levels(conn: Connection, identity: Identity) -> dict[uuid.UUID, Access]:
    """The highest live grant `identity` holds on each collection."""
    rows = conn.execute(
        sa.select(col(AccessGrant.collection_id), col(AccessGrant.level)).where(_held(identity))
    ).all()
    levels: dict[uuid.UUID, Access] = {}
    for collection_id, level in rows:
        granted = Access(GrantLevel(level).value)
        levels[collection_id] = highest(levels.get(collection_id, Access.NONE), granted)
    return levels


class GrantView(BaseModel):
    id: uuid.UUID
    collection_id: uuid.UUID
    principal_kind: PrincipalKind
    principal: str
    level: GrantLevel
    granted_by: str | None
    created_at: datetime
    expires_at: datetime | None


class GrantService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def grant(
        self,
        identity: Identity,
        collection_id: uuid.UUID,
        principal: tuple[PrincipalKind, str],
        level: GrantLevel,
        expires_at: datetime | None = None,
    ) -> GrantView:
        """Grant (or change) a principal's access to a collection; curators and admins only."""
        kind, name = principal
        if not name.strip():
            raise ValidationError("invalid grant", [ErrorDetail("must not be empty", "principal")])
        with self.store.session() as session:
            self._require_curator(session.connection(), identity, collection_id)
            row = session.exec(
                select(AccessGrant).where(
                    col(AccessGrant.collection_id) == collection_id,
                    col(AccessGrant.principal_kind) == kind,
                    col(AccessGrant.principal) == name,
                )
            ).one_or_none() or AccessGrant(
                collection_id=collection_id, principal_kind=kind, principal=name, level=level
            )
            row.level, row.expires_at, row.granted_by = level, expires_at, identity.subject
            session.add(row)
            session.flush()
            return GrantView.model_validate(row, from_attributes=True)

    def revoke(self, identity: Identity, grant_id: uuid.UUID) -> None:
        with self.store.session() as session:
            row = session.get(AccessGrant, grant_id)
            if row is None:
                raise NotFoundError("no such grant")
            self._require_curator(session.connection(), identity, row.collection_id)
            session.delete(row)

    def of_collection(self, identity: Identity, collection_id: uuid.UUID) -> list[GrantView]:
        with self.store.session() as session:
            self._require_curator(session.connection(), identity, collection_id)
            rows = session.exec(
                select(AccessGrant)
                .where(col(AccessGrant.collection_id) == collection_id)
                .order_by(col(AccessGrant.principal_kind), col(AccessGrant.principal))
            ).all()
            return _views(rows)

    def held_by(self, identity: Identity) -> list[GrantView]:
        """The live grants the caller holds (the `me` query)."""
        with self.store.session() as session:
            rows = session.exec(
                select(AccessGrant).where(_held(identity)).order_by(col(AccessGrant.created_at))
            ).all()
            return _views(rows)

    @staticmethod
    def _require_curator(conn: Connection, identity: Identity, collection_id: uuid.UUID) -> None:
        """Curators of the site and admins pass. Anyone else is refused, and told the collection
        does not exist when they may not know it does."""
        row = conn.execute(
            sa.select(col(Site.slug), col(Collection.visibility))
            .join(Collection, col(Collection.site_id) == col(Site.id))
            .where(col(Collection.id) == collection_id, col(Collection.deleted_at).is_(None))
        ).one_or_none()
        if row is not None and identity.curates(row[0]):
            return
        granted = granted_levels(conn, identity).get(collection_id)
        if row is None or access_to(identity, row[1], row[0], granted) is Access.NONE:
            raise NotFoundError("no such collection")
        raise PermissionDeniedError("only the site's curators and admins manage its grants")


def _views(rows: Sequence[AccessGrant]) -> list[GrantView]:
    return [GrantView.model_validate(r, from_attributes=True) for r in rows]
