"""The node's sign-in tokens: the identity survives the round trip, and neither a sealed login
state nor a token signed with another key passes for one."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from catalogue.access import Identity
from catalogue.errors import AuthenticationError, ConfigurationError
from catalogue.sessions import SessionTokens

KEY = SecretStr("k" * 40)
CURATOR = Identity(
    subject="oidc:https://idp.example#ada",
    roles=frozenset({"researcher", "curator"}),
    groups=frozenset({"neuro", "ms"}),
    sites=frozenset({"site-a"}),
    via="oidc",
)


def tokens(key: SecretStr = KEY, revoked: frozenset[str] = frozenset()) -> SessionTokens:
    return SessionTokens(key, "https://node.example", 600, lambda jti: jti in revoked)


def test_the_identity_survives_the_round_trip() -> None:
    token = tokens().issue(CURATOR)
    assert tokens().owns(token)
    assert tokens().verify(token) == CURATOR


def test_a_revoked_token_is_refused() -> None:
    token = tokens().issue(CURATOR)
    _, jti = tokens().expiry_and_id(token)
    with pytest.raises(AuthenticationError, match="revoked"):
        tokens(revoked=frozenset({jti})).verify(token)


def test_another_key_and_a_login_state_do_not_pass_for_a_token() -> None:
    forged = tokens(SecretStr("f" * 40)).issue(CURATOR)
    with pytest.raises(AuthenticationError, match="signature"):
        tokens().verify(forged)
    sealed = tokens().seal({"state": "s"}, 60)
    assert not tokens().owns(sealed)
    with pytest.raises(AuthenticationError):
        tokens().verify(sealed)
    with pytest.raises(AuthenticationError, match="not valid"):
        tokens().unseal(tokens().issue(CURATOR))


def test_a_login_state_expires() -> None:
    sealed = tokens().seal({"state": "s"}, -120)
    with pytest.raises(AuthenticationError, match="took too long"):
        tokens().unseal(sealed)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        tokens(SecretStr("short"))
