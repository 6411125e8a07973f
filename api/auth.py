"""Who sent this request: `identity_from_request` for REST routes, GraphQL context and middleware.

Credentials come as `Authorization: Bearer <JWT or API key>` or `X-API-Key: <API key>`. No
credential is the anonymous identity; a credential that does not verify is a 401 with the one
JSON error body, never a silent fall-back to anonymous.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from catalogue.access import ANONYMOUS, Identity
from catalogue.apikeys import ApiKeyService
from catalogue.authentication import Authenticator, session_tokens, token_verifier
from catalogue.errors import AuthenticationError
from catalogue.revocations import TokenRevocations
from catalogue.settings import Settings
from catalogue.store import Store


def credential_of(request: HTTPConnection) -> str | None:
    """The credential the request presents, or None; a malformed header is an error."""
    header = request.headers.get("authorization")
    key = request.headers.get("x-api-key")
    if header is not None and key is not None:
        raise AuthenticationError("send one credential: Authorization or X-API-Key, not both")
    if key is not None:
        return _non_empty(key.strip())
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationError("the Authorization header must use the Bearer scheme")
    return _non_empty(value.strip())


def _non_empty(value: str) -> str:
    if not value:
        raise AuthenticationError("the credential is empty")
    return value


async def identity_from_request(request: HTTPConnection) -> Identity:
    """The caller's identity, verified once per request and kept on `request.state`."""
    known = getattr(request.state, "identity", None)
    if isinstance(known, Identity):
        return known
    credential = credential_of(request)
    identity = ANONYMOUS
    if credential is not None:
        authenticator: Authenticator | None = getattr(request.app.state, "authenticator", None)
        if authenticator is None:
            raise AuthenticationError("this node accepts no credentials")
        identity = await run_in_threadpool(authenticator.identify, credential)
    request.state.identity = identity
    return identity


def install(app: FastAPI, settings: Settings, store: Store) -> None:
    """Give the app its authenticator (bearer tokens as configured, API keys from the store, the
    node's own sign-in tokens with an OpenID Connect issuer)."""
    revocations = TokenRevocations(store)
    tokens = token_verifier(settings, is_revoked=revocations.is_revoked)
    sessions = session_tokens(settings, is_revoked=revocations.is_revoked)
    api_keys = ApiKeyService(store, settings.api_key_max_days)
    app.state.authenticator = Authenticator(tokens, api_keys, sessions)
    app.state.sessions, app.state.revocations = sessions, revocations
