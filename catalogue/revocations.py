"""Bearer tokens refused before they expire, by `jti`. Checked on every request that presents a
token with a `jti` (one primary-key look-up); entries past the token's expiry may be pruned."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete

from catalogue.access import Identity
from catalogue.errors import ErrorDetail, PermissionDeniedError, ValidationError
from catalogue.models import RevokedToken, utcnow
from catalogue.store import Store


class TokenRevocations:
    def __init__(self, store: Store) -> None:
        self.store = store

    def revoke(
        self, identity: Identity, jti: str, expires_at: datetime | None = None, reason: str = ""
    ) -> None:
        if not identity.is_admin:
            raise PermissionDeniedError("only admins revoke tokens")
        if not jti.strip() or len(jti) > 255:
            raise ValidationError("invalid revocation", [ErrorDetail("1 to 255 characters", "jti")])
        with self.store.session() as session:
            row = session.get(RevokedToken, jti) or RevokedToken(jti=jti)
            row.expires_at, row.reason = expires_at, reason[:255]
            session.add(row)

    def sign_out(self, jti: str, expires_at: datetime) -> None:
        """Refuse one's own token from now on: presenting it is the proof of holding it."""
        with self.store.session() as session:
            row = session.get(RevokedToken, jti) or RevokedToken(jti=jti)
            row.expires_at, row.reason = expires_at, "signed out"
            session.add(row)

    def is_revoked(self, jti: str) -> bool:
        with self.store.session() as session:
            return session.get(RevokedToken, jti) is not None

    def prune(self) -> int:
        """Forget revocations of tokens that have expired anyway."""
        with self.store.session() as session:
            result = session.exec(
                delete(RevokedToken).where(col(RevokedToken.expires_at) < utcnow())
            )
            return int(result.rowcount)
