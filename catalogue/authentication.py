"""From a presented credential to an `Identity`: API keys by their prefix, anything else as a JWT.

Built once from settings by the composition root. A node with no issuer configured accepts API
keys only; every credential it cannot verify is an `AuthenticationError`, never anonymous.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from catalogue.access import Identity
from catalogue.apikeys import PREFIX as API_KEY_PREFIX
from catalogue.errors import AuthenticationError
from catalogue.sessions import SessionTokens
from catalogue.settings import Settings
from catalogue.tokens import KeyFinder, TokenPolicy, TokenVerifier, jwks_file, jwks_url
from catalogue.tokens import shared_secret as secret_keys


class CredentialVerifier(Protocol):
    def verify(self, credential: str) -> Identity: ...


class Authenticator:
    def __init__(
        self,
        tokens: CredentialVerifier | None,
        api_keys: CredentialVerifier | None,
        sessions: SessionTokens | None = None,
    ) -> None:
        self.tokens = tokens
        self.api_keys = api_keys
        self.sessions = sessions  # the node's own sign-in tokens (OpenID Connect sign-in)

    def identify(self, credential: str) -> Identity:
        if self.sessions is not None and self.sessions.owns(credential):
            return self.sessions.verify(credential)
        if credential.startswith(API_KEY_PREFIX):
            if self.api_keys is None:
                raise AuthenticationError("this node accepts no API keys")
            return self.api_keys.verify(credential)
        if self.tokens is None:
            raise AuthenticationError("this node accepts no bearer tokens (no issuer configured)")
        return self.tokens.verify(credential)


def token_verifier(settings: Settings, is_revoked: Callable[[str], bool]) -> TokenVerifier | None:
    """The configured JWT verifier, or None when no key source is set."""
    find_key = _key_finder(settings)
    if find_key is None:
        return None
    policy = TokenPolicy(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        leeway_seconds=settings.auth_leeway_seconds,
        max_lifetime_seconds=settings.auth_max_token_lifetime_seconds,
        roles_claim=settings.auth_roles_claim,
        groups_claim=settings.auth_groups_claim,
    )
    return TokenVerifier(find_key, policy, is_revoked)


def session_tokens(settings: Settings, is_revoked: Callable[[str], bool]) -> SessionTokens | None:
    """The node's sign-in tokens, when sign-in with an OpenID Connect issuer is configured."""
    if not settings.oidc_issuer:
        return None
    return SessionTokens(
        settings.session_key(),
        settings.base_iri,
        settings.oidc_session_seconds,
        is_revoked,
        settings.auth_leeway_seconds,
    )


def _key_finder(settings: Settings) -> KeyFinder | None:
    if settings.auth_jwks_file is not None:
        return jwks_file(settings.auth_jwks_file)
    if settings.auth_jwks_url is not None:
        return jwks_url(str(settings.auth_jwks_url))
    if settings.auth_hs256_secret is not None:
        return secret_keys(settings.auth_hs256_secret.get_secret_value())
    return None
