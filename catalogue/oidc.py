"""OpenID Connect sign-in (authorization code flow with PKCE, S256): this node as relying party.

`begin` finds the issuer's endpoints (discovery, cached an hour), draws `state`, `nonce` and a
PKCE verifier and returns the issuer's authorization URL; `finish` exchanges the code, verifies
the ID token (signature against the issuer's JWKS, asymmetric algorithms only, `iss`, `aud`,
`azp`, `exp`, `iat`, `nonce`) and maps its claims to an `Identity`: subject
`oidc:<issuer>#<sub>`, roles from the roles claim as for bearer tokens, groups from the groups
claim, so grants to those groups apply. Tokens from the issuer are used once and never kept;
errors say what went wrong without echoing a token or a claim.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt

from catalogue.access import Identity
from catalogue.errors import (
    AuthenticationError,
    ConfigurationError,
    ErrorDetail,
    IdentityProviderUnavailableError,
)
from catalogue.sessions import VIA
from catalogue.settings import Settings
from catalogue.tokens import ASYMMETRIC, TokenPolicy, claim_strings, identity_of

DISCOVERY_TTL_SECONDS = 3600
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    redirect_uri: str
    display_name: str
    roles_claim: str = "roles"
    groups_claim: str = "groups"
    group_roles: tuple[tuple[str, str], ...] = ()  # (group, role) pairs
    leeway_seconds: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> OidcConfig | None:
        """The sign-in configuration, None when no issuer is set; a broken one is an error."""
        if not settings.oidc_issuer:
            return None
        issuer = settings.oidc_issuer  # exactly as the issuer names itself in `iss`
        problems = _problems(settings, issuer)
        if problems:
            raise ConfigurationError("OpenID Connect sign-in is misconfigured", problems)
        base = str(settings.oidc_redirect_base_url or settings.base_url).rstrip("/")
        secret = settings.oidc_client_secret
        return cls(
            issuer=issuer,
            client_id=str(settings.oidc_client_id),
            client_secret=secret.get_secret_value() if secret else None,
            scopes=settings.oidc_scopes,
            redirect_uri=f"{base}/auth/callback",
            display_name=settings.oidc_display_name or str(urlsplit(issuer).hostname),
            roles_claim=settings.oidc_roles_claim,
            groups_claim=settings.oidc_groups_claim,
            group_roles=tuple(sorted(settings.oidc_group_roles.items())),
            leeway_seconds=settings.auth_leeway_seconds,
        )


def _problems(settings: Settings, issuer: str) -> list[ErrorDetail]:
    found = []
    parts = urlsplit(issuer)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.query:
        reason = "an https URL without query (http on loopback only)"
        found.append(ErrorDetail(reason, "CATALOGUE_OIDC_ISSUER"))
    if not settings.oidc_client_id:
        found.append(ErrorDetail("required with an issuer", "CATALOGUE_OIDC_CLIENT_ID"))
    if "openid" not in settings.oidc_scopes.split():
        found.append(ErrorDetail("must include `openid`", "CATALOGUE_OIDC_SCOPES"))
    for group, role in settings.oidc_group_roles.items():
        if role not in ("admin", "researcher") and not re.fullmatch(r"curator:[\w.-]+", role):
            reason = f"group {group!r}: a role is admin, researcher or curator:<site-slug>"
            found.append(ErrorDetail(reason, "CATALOGUE_OIDC_GROUP_ROLES"))
    return found


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str


@dataclass(frozen=True)
class LoginState:
    """What the browser carries (sealed) through the issuer and back."""

    state: str
    nonce: str
    verifier: str
    return_to: str

    def as_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in ("state", "nonce", "verifier", "return_to")}

    @classmethod
    def of(cls, claims: dict[str, Any]) -> LoginState:
        return cls(*(str(claims[k]) for k in ("state", "nonce", "verifier", "return_to")))


class OidcClient:
    def __init__(self, config: OidcConfig, timeout_seconds: float = 10.0) -> None:
        self.config = config
        self._timeout = timeout_seconds
        self._endpoints: tuple[float, Endpoints] | None = None
        self._keys: jwt.PyJWKSet | None = None

    async def begin(self, return_to: str) -> tuple[str, LoginState]:
        """The issuer's authorization URL to send the browser to, and the state to keep."""
        endpoints = await self.endpoints()
        login = LoginState(_random(), _random(), _random(), return_to)
        query = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "scope": self.config.scopes,
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": _challenge(login.verifier),
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in endpoints.authorization else "?"
        return f"{endpoints.authorization}{separator}{urlencode(query)}", login

    async def finish(self, code: str, login: LoginState) -> Identity:
        """Exchange the code and verify the ID token: the person the issuer vouches for."""
        endpoints = await self.endpoints()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_uri,
            "client_id": self.config.client_id,
            "code_verifier": login.verifier,
        }
        auth = None
        if self.config.client_secret is not None:
            auth = httpx.BasicAuth(self.config.client_id, self.config.client_secret)
        reply = await self._call("POST", endpoints.token, data=form, auth=auth)
        if reply.status_code != 200:
            refused = _oauth_error(reply)
            raise AuthenticationError(f"the issuer refused the sign-in code ({refused})")
        id_token = _json(reply).get("id_token")
        if not isinstance(id_token, str):
            raise AuthenticationError("the issuer answered without an ID token")
        return self.identity(await self.verify_id_token(id_token, login.nonce))

    def identity(self, claims: dict[str, Any]) -> Identity:
        policy = TokenPolicy(
            issuer=self.config.issuer,
            audience=self.config.client_id,
            roles_claim=self.config.roles_claim,
            groups_claim=self.config.groups_claim,
            via=VIA,
        )
        subject = f"oidc:{self.config.issuer}#{claims['sub']}"
        groups = set(claim_strings(claims.get(self.config.groups_claim)))
        roles = claim_strings(claims.get(self.config.roles_claim))
        roles += [role for group, role in self.config.group_roles if group in groups]
        mapped = {**claims, "sub": subject, self.config.roles_claim: roles}
        return identity_of(mapped, policy)

    async def verify_id_token(self, token: str, nonce: str) -> dict[str, Any]:
        key = await self._key_for(token)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ASYMMETRIC,
                audience=self.config.client_id,
                issuer=self.config.issuer,
                leeway=self.config.leeway_seconds,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "nonce"]},
            )
        except jwt.PyJWTError as exc:
            reason = _id_token_reason(exc)
            raise AuthenticationError(f"the ID token is not valid: {reason}") from None
        if not secrets.compare_digest(str(claims["nonce"]), nonce):
            raise AuthenticationError("the ID token is not valid: it answers another sign-in")
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.config.client_id:
            raise AuthenticationError("the ID token is not valid: issued to another party")
        return claims

    async def endpoints(self) -> Endpoints:
        """The issuer's endpoints from its discovery document, cached an hour."""
        if self._endpoints is not None and time.monotonic() < self._endpoints[0]:
            return self._endpoints[1]
        url = f"{self.config.issuer.rstrip('/')}/.well-known/openid-configuration"
        document = _json(await self._call("GET", url, expect_ok=True))
        if document.get("issuer") != self.config.issuer:
            raise IdentityProviderUnavailableError("the issuer's discovery names another issuer")
        names = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not all(isinstance(document.get(k), str) for k in names):
            raise IdentityProviderUnavailableError("the issuer's discovery lacks endpoints")
        found = Endpoints(*(document[k] for k in names))
        self._endpoints = (time.monotonic() + DISCOVERY_TTL_SECONDS, found)
        return found

    async def _key_for(self, token: str) -> Any:
        """The issuer's key the token names; the JWKS is fetched again once for an unknown kid
        (the issuer rotated its keys)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise AuthenticationError("the ID token is not valid: malformed") from None
        for fresh in (False, True):
            if fresh or self._keys is None:
                self._keys = await self._fetch_keys()
            matching = [k for k in self._keys.keys if kid is None or k.key_id == kid]
            if len(matching) == 1:
                return matching[0].key
        raise AuthenticationError("the ID token is not valid: signed with a key the issuer lacks")

    async def _fetch_keys(self) -> jwt.PyJWKSet:
        reply = await self._call("GET", (await self.endpoints()).jwks, expect_ok=True)
        try:
            return jwt.PyJWKSet.from_dict(_json(reply))
        except jwt.PyJWTError:
            raise IdentityProviderUnavailableError("the issuer's keys cannot be read") from None

    async def _call(
        self, method: str, url: str, *, expect_ok: bool = False, **kwargs: Any
    ) -> httpx.Response:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                reply = await client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise IdentityProviderUnavailableError(
                f"the sign-in service {self.config.issuer} cannot be reached ({type(exc).__name__})"
            ) from None
        if expect_ok and reply.status_code != 200:
            raise IdentityProviderUnavailableError(
                f"the sign-in service {self.config.issuer} answered {reply.status_code}"
            )
        return reply


def _random() -> str:
    return secrets.token_urlsafe(32)


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _json(reply: httpx.Response) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise IdentityProviderUnavailableError("the sign-in service answered something not JSON")
    return body


def _oauth_error(reply: httpx.Response) -> str:
    """The OAuth error code only (never the description, which may quote what was sent)."""
    try:
        code = reply.json().get("error")
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) and code.isidentifier() else f"HTTP {reply.status_code}"


_ID_TOKEN_REASONS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "it has expired"),
    (jwt.ImmatureSignatureError, "it is not valid yet"),
    (jwt.InvalidAudienceError, "it is meant for another client (audience)"),
    (jwt.InvalidIssuerError, "it comes from another issuer"),
    (jwt.MissingRequiredClaimError, "it lacks a required claim"),
    (jwt.InvalidSignatureError, "its signature does not verify"),
    (jwt.InvalidAlgorithmError, "its algorithm is not accepted"),
]


def _id_token_reason(exc: Exception) -> str:
    for kind, reason in _ID_TOKEN_REASONS:
        if isinstance(exc, kind):
            return reason
    return "malformed"
