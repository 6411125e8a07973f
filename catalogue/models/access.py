"""Access control and its trail: grants, API keys of platform clients, revoked tokens, audit."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from catalogue.models.base import UTCDateTime, created_at, enum_field, optional_time, utcnow


class PrincipalKind(enum.StrEnum):
    USER = "user"  # a token's `sub`
    GROUP = "group"  # a name in a token's groups claim
    CLIENT = "client"  # a platform client (its API keys)


class GrantLevel(enum.StrEnum):
    RECORDS = "records"  # record-level hits and exact counts
    COUNTS = "counts"  # suppressed counts only


class AccessGrant(SQLModel, table=True):
    """Lets a user, group or client learn more of one collection than its visibility allows."""

    __tablename__ = "access_grant"
    __table_args__ = (UniqueConstraint("collection_id", "principal_kind", "principal"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    collection_id: uuid.UUID = Field(foreign_key="collection.id", index=True)
    principal_kind: PrincipalKind = enum_field(PrincipalKind)
    principal: str = Field(max_length=255, index=True)
    level: GrantLevel = enum_field(GrantLevel)
    granted_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = created_at()
    expires_at: datetime | None = optional_time()


class ApiKey(SQLModel, table=True):
    """A platform client's key. Only a SHA-256 of its secret is kept; the id is public."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=32)
    client: str = Field(max_length=255, index=True)
    description: str = Field(default="", max_length=512)
    scopes: str = Field(max_length=512)  # space-separated
    secret_hash: str = Field(max_length=64)
    created_by: str | None = Field(default=None, max_length=255)
    created_at: datetime = created_at()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = optional_time()


class RevokedToken(SQLModel, table=True):
    """A bearer token refused before it expires, by its `jti`."""

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=255)
    revoked_at: datetime = created_at()
    expires_at: datetime | None = optional_time()  # after this the entry may be dropped
    reason: str = Field(default="", max_length=255)


class AuditEntry(SQLModel, table=True):
    """A query that touched collections that are not public: who, what, when, how much."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    subject: str | None = Field(default=None, max_length=255, index=True)  # None: anonymous
    via: str = Field(max_length=32)
    action: str = Field(max_length=64)
    query: str  # canonical JSON of what was asked
    collections: str  # JSON list of the non-public collection ids the answer drew on
    result_size: int


class AccessEpoch(SQLModel, table=True):
    """One row whose counter database triggers move on every write that can change what anyone
    may learn of a collection (a grant; a collection's or site's visibility, title, name or
    deletion), whichever process writes. Readers keep access answers while it stands still."""

    __tablename__ = "access_epoch"

    id: int = Field(default=1, primary_key=True)
    n: int = 0
