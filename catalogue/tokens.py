"""Bearer JWTs from the consortium's identity provider, verified into an `Identity`.

Keys come from a JWKS file, a JWKS URL (cached) or a shared HS256 secret. The issuer, the
audience, `exp`, `nbf` and `iat` are checked (with a small leeway), a token living longer than
the configured maximum is refused, and a token whose `jti` was revoked is refused. Claims map to
roles: `admin`, `researcher`, `curator:<site-slug>` in the roles claim, groups in the groups
claim; every signed-in person is at least a researcher. Error messages never echo the token.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from catalogue.access import Identity, Role
from catalogue.errors import AuthenticationError, ConfigurationError

ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]

_REASONS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidAudienceError, "the token is not meant for this node (audience)"),
    (jwt.InvalidIssuerError, "the token comes from an issuer this node does not trust"),
    (jwt.MissingRequiredClaimError, "the token lacks a required claim"),
    (jwt.InvalidSignatureError, "the token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "the token's algorithm is not accepted"),
    (jwt.PyJWKClientError, "the issuer's keys cannot be fetched or do not match the token"),
    (jwt.DecodeError, "the token is malformed"),
]


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str | None
    audience: str | None
    leeway_seconds: int = 30
    max_lifetime_seconds: int = 86_400
    roles_claim: str = "roles"
    groups_claim: str = "groups"
    via: str = "token"  # `Identity.via` of the identities these tokens establish


KeyFinder = Callable[[str], tuple[Any, list[str]]]  # token -> (key, accepted algorithms)


class TokenVerifier:
    def __init__(
        self, find_key: KeyFinder, policy: TokenPolicy, is_revoked: Callable[[str], bool]
    ) -> None:
        self._find_key = find_key
        self.policy = policy
        self._is_revoked = is_revoked

    def verify(self, token: str) -> Identity:
        claims = self._claims(token)
        lifetime = int(claims["exp"]) - int(claims["iat"])
        if lifetime > self.policy.max_lifetime_seconds:
            raise AuthenticationError("the token lives longer than this node accepts")
        jti = claims.get("jti")
        if isinstance(jti, str) and self._is_revoked(jti):
            raise AuthenticationError("the token has been revoked")
        return identity_of(claims, self.policy)

    def _claims(self, token: str) -> dict[str, Any]:
        p = self.policy
        required = ["exp", "iat", "sub"] + ["iss"] * bool(p.issuer) + ["aud"] * bool(p.audience)
        try:
            key, algorithms = self._find_key(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=p.audience,
                issuer=p.issuer,
                leeway=p.leeway_seconds,
                options={"require": required},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(_reason(exc)) from None
        return claims


def _reason(exc: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "the token is not valid"


def identity_of(claims: dict[str, Any], policy: TokenPolicy) -> Identity:
    roles, sites = {Role.RESEARCHER.value}, set()
    for role in claim_strings(claims.get(policy.roles_claim)):
        if role.startswith("curator:"):
            roles.add(Role.CURATOR.value)
            sites.add(role.removeprefix("curator:"))
        elif role in (Role.ADMIN, Role.RESEARCHER):
            roles.add(role)
    return Identity(
        subject=str(claims["sub"]),
        roles=frozenset(roles),
        groups=frozenset(claim_strings(claims.get(policy.groups_claim))),
        sites=frozenset(sites),
        via=policy.via,
    )


def claim_strings(value: object) -> list[str]:
    """A claim holding names: a space-separated string or a list of strings."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


# -- key sources ------------------------------------------------------------------------------
def shared_secret(secret: str) -> KeyFinder:
    if len(secret.encode()) < 32:
        raise ConfigurationError("the HS256 token secret must be at least 32 bytes long")
    return lambda _token: (secret, ["HS256"])


def jwks_file(path: Path) -> KeyFinder:
    """Keys from a JWKS document on disk, read once; the token's `kid` picks the key."""
    try:
        keys = jwt.PyJWKSet.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        reason = type(exc).__name__
        raise ConfigurationError(f"cannot read the JWKS file {path}: {reason}") from None

    def find(token: str) -> tuple[Any, list[str]]:
        kid = jwt.get_unverified_header(token).get("kid")
        matching = [k for k in keys.keys if kid is None or k.key_id == kid]
        if len(matching) != 1:
            raise jwt.PyJWKClientError("no single key matches the token's kid")
        return matching[0].key, ASYMMETRIC

    return find


def jwks_url(url: str, timeout_seconds: float = 5.0) -> KeyFinder:
    """Keys fetched from the issuer's JWKS URL and cached for five minutes."""
    client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=int(timeout_seconds))
    return lambda token: (client.get_signing_key_from_jwt(token).key, ASYMMETRIC)
