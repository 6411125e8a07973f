"""API keys for platform clients: scoped, expiring, revocable, stored hashed.

A key reads `cat_<id>_<secret>`. The id is public (it names the key in lists and logs); only a
SHA-256 of the secret is stored (the secret is 256 random bits, so a plain hash is enough), and
the key itself is shown once, when it is created. Only admins create, list and revoke keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlmodel import col, select

from catalogue.access import ClientScope, Identity, Role
from catalogue.errors import (
    AuthenticationError,
    ErrorDetail,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from catalogue.models import ApiKey, utcnow
from catalogue.store import Store

PREFIX = "cat_"
_ID_CHARS = 12


class ApiKeyView(BaseModel):
    id: str
    client: str
    description: str
    scopes: list[str]
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> ApiKeyView:
        return cls(
            id=row.id,
            client=row.client,
            description=row.description,
            scopes=row.scopes.split(),
            created_by=row.created_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
        )


class ApiKeyService:
    def __init__(self, store: Store, max_days: int = 365) -> None:
        self.store = store
        self.max_days = max_days

    def create(
        self,
        identity: Identity,
        client: str,
        scopes: list[str],
        days: int,
        description: str = "",
    ) -> tuple[str, ApiKeyView]:
        """A new key for `client`; returns the key (shown once) and what is stored about it."""
        _require_admin(identity)
        _check_new(client, scopes, days, self.max_days)
        key_id, secret = secrets.token_hex(_ID_CHARS // 2), secrets.token_urlsafe(32)
        row = ApiKey(
            id=key_id,
            client=client,
            description=description,
            scopes=" ".join(sorted(set(scopes))),
            secret_hash=_hash(key_id, secret),
            created_by=identity.subject,
            expires_at=utcnow() + timedelta(days=days),
        )
        with self.store.session() as session:
            session.add(row)
            session.flush()
            view = ApiKeyView.of(row)
        return f"{PREFIX}{key_id}_{secret}", view

    def list(self, identity: Identity, client: str | None = None) -> list[ApiKeyView]:
        _require_admin(identity)
        query = select(ApiKey).order_by(col(ApiKey.client), col(ApiKey.created_at))
        if client is not None:
            query = query.where(col(ApiKey.client) == client)
        with self.store.session() as session:
            return [ApiKeyView.of(r) for r in session.exec(query).all()]

    def revoke(self, identity: Identity, key_id: str) -> ApiKeyView:
        _require_admin(identity)
        with self.store.session() as session:
            row = session.get(ApiKey, key_id)
            if row is None:
                raise NotFoundError("no such API key")
            row.revoked_at = row.revoked_at or utcnow()
            session.add(row)
            session.flush()
            return ApiKeyView.of(row)

    def verify(self, credential: str) -> Identity:
        """The client a key belongs to, with its scopes; refused when unknown, wrong, revoked
        or expired. The message never echoes the key."""
        key_id, secret = _parse(credential)
        with self.store.session() as session:
            row = session.get(ApiKey, key_id)
            # compare against something even for an unknown id: timing does not tell ids apart
            stored = row.secret_hash if row is not None else _hash("", "")
            if not hmac.compare_digest(stored, _hash(key_id, secret)) or row is None:
                raise AuthenticationError("the API key is not valid")
            if row.revoked_at is not None:
                raise AuthenticationError("the API key has been revoked")
            if row.expires_at <= utcnow():
                raise AuthenticationError("the API key has expired")
            return Identity(
                subject=row.client,
                roles=frozenset({Role.CLIENT.value}),
                scopes=frozenset(row.scopes.split()),
                via="api_key",
            )


def _hash(key_id: str, secret: str) -> str:
    return hashlib.sha256(f"{key_id}:{secret}".encode()).hexdigest()


def _parse(credential: str) -> tuple[str, str]:
    body = credential.removeprefix(PREFIX)
    key_id, sep, secret = body[:_ID_CHARS], body[_ID_CHARS : _ID_CHARS + 1], body[_ID_CHARS + 1 :]
    if not credential.startswith(PREFIX) or sep != "_" or not secret or len(credential) > 256:
        raise AuthenticationError("the API key is malformed")
    return key_id, secret


def _require_admin(identity: Identity) -> None:
    if not identity.is_admin:
        raise PermissionDeniedError("only admins manage API keys")


def _check_new(client: str, scopes: list[str], days: int, max_days: int) -> None:
    problems = []
    if not client.strip() or len(client) > 255:
        problems.append(ErrorDetail("must be 1 to 255 characters", "client"))
    known = {s.value for s in ClientScope}
    unknown = sorted(set(scopes) - known)
    if unknown or not scopes:
        allowed = ", ".join(sorted(known))
        problems.append(
            ErrorDetail(f"unknown or no scopes {unknown}; allowed: {allowed}", "scopes")
        )
    if not 1 <= days <= max_days:
        problems.append(ErrorDetail(f"must be between 1 and {max_days}", "days"))
    if problems:
        raise ValidationError("invalid API key request", problems)
