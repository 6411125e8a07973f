"""Saved cohorts: named cohort queries a signed-in person keeps on the node.

Each belongs to the identity's subject that saved it; nobody else sees, replaces or deletes it,
administrators included (a saved cohort is a person's working notes, not a catalogue record).
Another person's cohort answers exactly as a missing one, so ids reveal nothing.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import col, select

from catalogue.access import Identity
from catalogue.errors import AuthenticationError, ErrorDetail, NotFoundError, ValidationError
from catalogue.models import SavedCohort, utcnow
from catalogue.store import Store

MAX_NAME = 120
MAX_QUERY_BYTES = 16_384  # a cohort query is a few criteria: anything larger is not one
MAX_URL_STATE = 4096
MAX_PER_OWNER = 200


class SavedCohortView(BaseModel):
    id: uuid.UUID
    name: str
    query: dict[str, Any]
    url_state: str
    created_at: datetime
    updated_at: datetime


class SavedCohortService:
    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self, identity: Identity) -> list[SavedCohortView]:
        """The caller's saved cohorts, by name."""
        owner = _owner(identity)
        with self.store.session() as session:
            rows = session.exec(
                select(SavedCohort)
                .where(SavedCohort.owner == owner)
                .order_by(col(SavedCohort.name), col(SavedCohort.id))
            ).all()
            return [_view(r) for r in rows]

    def save(
        self, identity: Identity, name: str, query: dict[str, Any], url_state: str = ""
    ) -> SavedCohortView:
        """Save under `name`; the caller's cohort of that name, if any, is replaced."""
        owner = _owner(identity)
        name = _checked(name, query, url_state)
        with self.store.session() as session:
            row = session.exec(
                select(SavedCohort).where(SavedCohort.owner == owner, SavedCohort.name == name)
            ).first()
            if row is None:
                held = session.exec(select(sa.func.count()).where(SavedCohort.owner == owner)).one()
                if held >= MAX_PER_OWNER:
                    raise ValidationError(
                        f"at most {MAX_PER_OWNER} saved cohorts each: delete some first"
                    )
                row = SavedCohort(owner=owner, name=name)
            row.query, row.url_state, row.updated_at = query, url_state, utcnow()
            session.add(row)
            session.flush()
            return _view(row)

    def delete(self, identity: Identity, cohort_id: uuid.UUID) -> None:
        """Delete one of the caller's saved cohorts (another's is "not found")."""
        owner = _owner(identity)
        with self.store.session() as session:
            row = session.get(SavedCohort, cohort_id)
            if row is None or row.owner != owner:
                raise NotFoundError("no saved cohort with that id")
            session.delete(row)


def _owner(identity: Identity) -> str:
    if identity.subject is None:
        raise AuthenticationError("sign in to keep cohorts on the node")
    return identity.subject


def _checked(name: str, query: dict[str, Any], url_state: str) -> str:
    name = " ".join(name.split())
    problems = []
    if not 1 <= len(name) <= MAX_NAME:
        problems.append(ErrorDetail(f"1 to {MAX_NAME} characters", "name"))
    if not isinstance(query, dict) or len(json.dumps(query)) > MAX_QUERY_BYTES:
        problems.append(ErrorDetail(f"a JSON object of at most {MAX_QUERY_BYTES} bytes", "query"))
    if len(url_state) > MAX_URL_STATE:
        problems.append(ErrorDetail(f"at most {MAX_URL_STATE} characters", "urlState"))
    if problems:
        raise ValidationError("invalid saved cohort", problems)
    return name


def _view(row: SavedCohort) -> SavedCohortView:
    return SavedCohortView(
        id=row.id,
        name=row.name,
        query=row.query,
        url_state=row.url_state,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
