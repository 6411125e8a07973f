"""The audit log: who asked what, when, of which non-public collections, and how much came back.

Services record a query when its answer could draw on collections that are not `public`: a
search whose scope holds such collections and found something, a cohort with non-zero counts
in one, a record read from one. Only admins (and clients holding `audit:read`) read it. The
query is stored as the caller sent it (the catalogue holds no patient identifier to echo).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import col, select

from catalogue.access import Identity, may_read_audit
from catalogue.errors import ErrorDetail, PermissionDeniedError, ValidationError
from catalogue.models import AuditEntry, utcnow
from catalogue.store import Store

MAX_PAGE = 500
_INSERT = sa.insert(AuditEntry)


class AuditView(BaseModel):
    id: int
    at: datetime
    subject: str | None
    via: str
    action: str
    query: dict[str, Any]
    collections: list[str]
    result_size: int


class AuditPage(BaseModel):
    entries: list[AuditView]
    next_after: int | None  # pass as `after` for the next (older) page


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        identity: Identity,
        action: str,
        query: Mapping[str, Any],
        collections: Iterable[str],
        result_size: int,
    ) -> None:
        """Write an entry when `collections` (the non-public ones touched) is not empty."""
        touched = sorted(set(collections))
        if not touched:
            return
        entry = {
            "at": utcnow(),
            "subject": identity.subject,
            "via": identity.via,
            "action": action,
            "query": json.dumps(query, sort_keys=True, default=str),
            "collections": json.dumps(touched),
            "result_size": result_size,
        }
        # a Core insert: an ORM unit of work would cost three times as much on every search
        with self.store.engine.begin() as conn:
            conn.execute(_INSERT, entry)

    def count(
        self, identity: Identity, *, subject: str | None = None, action: str | None = None
    ) -> int:
        """How many entries `entries` would walk through with the same filters."""
        if not may_read_audit(identity):
            raise PermissionDeniedError("only admins read the audit log")
        query = select(sa.func.count()).select_from(AuditEntry)
        if subject is not None:
            query = query.where(col(AuditEntry.subject) == subject)
        if action is not None:
            query = query.where(col(AuditEntry.action) == action)
        with self.store.session() as session:
            return int(session.exec(query).one())

    def entries(
        self,
        identity: Identity,
        *,
        subject: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> AuditPage:
        """Newest first; `after` continues from the last id of the previous page."""
        if not may_read_audit(identity):
            raise PermissionDeniedError("only admins read the audit log")
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(
                "invalid audit query", [ErrorDetail(f"between 1 and {MAX_PAGE}", "limit")]
            )
        query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit + 1)
        if subject is not None:
            query = query.where(col(AuditEntry.subject) == subject)
        if action is not None:
            query = query.where(col(AuditEntry.action) == action)
        if since is not None:
            query = query.where(col(AuditEntry.at) >= since)
        if until is not None:
            query = query.where(col(AuditEntry.at) < until)
        if after is not None:
            query = query.where(col(AuditEntry.id) < after)
        with self.store.session() as session:
            rows = session.exec(query).all()
        views = [_view(r) for r in rows[:limit]]
        more = len(rows) > limit
        return AuditPage(entries=views, next_after=views[-1].id if more and views else None)


def _view(row: AuditEntry) -> AuditView:
    assert row.id is not None
    return AuditView(
        id=row.id,
        at=row.at,
        subject=row.subject,
        via=row.via,
        action=row.action,
        query=json.loads(row.query),
        collections=json.loads(row.collections),
        result_size=row.result_size,
    )
