"""Shared columns: identity, IRIs, natural keys and provenance."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every dialect (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_field(enum_type: type[enum.StrEnum], default: enum.StrEnum | None = None) -> Any:
    """An enum stored as its value in a plain VARCHAR (no native PostgreSQL enum to migrate)."""
    column = Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )
    if default is None:
        return Field(sa_type=column)
    return Field(default=default, sa_type=column)


def created_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


def updated_at() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


def optional_time(index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, index=index)


class Visibility(enum.StrEnum):
    """Who may see a collection's records; its records inherit it."""

    PUBLIC = "public"  # records shown to anyone
    REGISTERED = "registered"  # records shown to signed-in researchers
    AGGREGATE = "aggregate"  # counts only, suppressed below the threshold
    PRIVATE = "private"  # the site's own curators only


class Entity(SQLModel):
    """Every stored thing: a random UUID and a stable IRI, minted once under the node's base URL
    by the store when the row is first flushed."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    iri: str | None = Field(default=None, unique=True, max_length=512)
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()


class Harvested(Entity):
    """A record that came from a source: natural key `(source_id, native_id)` and its provenance.

    `content_hash` lets the runner skip rewriting unchanged records; `deleted_at` marks records that
    complete runs stopped seeing (a soft delete, so IRIs never dangle).
    """

    source_id: uuid.UUID = Field(foreign_key="source.id", index=True)
    native_id: str = Field(max_length=512)
    first_seen_run_id: uuid.UUID | None = Field(default=None, foreign_key="harvest_run.id")
    last_seen_run_id: uuid.UUID | None = Field(default=None, foreign_key="harvest_run.id")
    first_seen_at: datetime = created_at()
    last_seen_at: datetime = created_at()
    content_hash: str = Field(default="", max_length=64)
    deidentification_profile: str | None = Field(default=None, max_length=64)
    # consecutive complete runs that did not see the record; at the threshold it is soft-deleted
    missing_runs: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    deleted_at: datetime | None = optional_time()
