"""ID-token verification against a real issuer's discovery and JWKS (oidc-provider on Node.js),
with tokens signed here by the issuer's own key or by a key it does not publish; and the
configuration checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from catalogue.errors import (
    AuthenticationError,
    ConfigurationError,
    IdentityProviderUnavailableError,
)
from catalogue.oidc import OidcClient, OidcConfig
from catalogue.settings import Settings
from tests.oidc import CLIENT_ID, Provider, running_provider, signing_key

pytestmark = [pytest.mark.anyio, pytest.mark.oidc]
NONCE = "n-0S6_WzA2Mj"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    workdir = tmp_path_factory.mktemp("oidc")
    with running_provider(workdir, "http://node.test/auth/callback", {"ada": {}}) as running:
        yield running


@pytest.fixture
def client(provider: Provider, tmp_path: Path) -> OidcClient:
    settings = Settings(data_dir=tmp_path, oidc_issuer=provider.issuer, oidc_client_id=CLIENT_ID)
    config = OidcConfig.from_settings(settings)
    assert config is not None
    return OidcClient(config)


def id_token(
    provider: Provider,
    key: rsa.RSAPrivateKey | None = None,
    kid: str = "provider-key",
    **claims: Any,
) -> str:
    now = int(time.time())
    body = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "ada", "iat": now, "exp": now + 300}
    body |= {"nonce": NONCE, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key or provider.key, algorithm="RS256", headers={"kid": kid})


async def test_a_token_signed_by_the_issuer_verifies(
    client: OidcClient, provider: Provider
) -> None:
    claims = await client.verify_id_token(id_token(provider, groups=["neuro"]), NONCE)
    identity = client.identity(claims)
    assert identity.subject == f"oidc:{provider.issuer}#ada"
    assert identity.groups == {"neuro"} and identity.via == "oidc"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-client"}, "meant for another client"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "has expired"),
        ({"iss": "https://elsewhere.example"}, "comes from another issuer"),
        ({"nonce": "an-older-sign-in"}, "answers another sign-in"),
        ({"nonce": None}, "lacks a required claim"),
        ({"aud": [CLIENT_ID, "other"], "azp": "other"}, "issued to another party"),
    ],
)
async def test_a_token_the_issuer_signed_for_something_else_is_refused(
    client: OidcClient, provider: Provider, claims: dict[str, Any], reason: str
) -> None:
    with pytest.raises(AuthenticationError, match=reason):
        await client.verify_id_token(id_token(provider, **claims), NONCE)


async def test_a_key_the_issuer_does_not_publish_is_refused(
    client: OidcClient, provider: Provider
) -> None:
    foreign, _ = signing_key("provider-key")
    with pytest.raises(AuthenticationError, match="signature does not verify"):
        await client.verify_id_token(id_token(provider, foreign), NONCE)
    with pytest.raises(AuthenticationError, match="key the issuer lacks"):
        await client.verify_id_token(id_token(provider, foreign, kid="rogue"), NONCE)


async def test_a_token_that_is_no_jwt_is_refused(client: OidcClient) -> None:
    with pytest.raises(AuthenticationError, match="malformed"):
        await client.verify_id_token("not.a.token", NONCE)


async def test_unsigned_and_symmetric_tokens_are_refused(
    client: OidcClient, provider: Provider
) -> None:
    now = int(time.time())
    body = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": "ada", "iat": now, "exp": now + 60}
    unsigned = jwt.encode({**body, "nonce": NONCE}, "", algorithm="none")
    with pytest.raises(AuthenticationError, match="algorithm is not accepted"):
        await client.verify_id_token(unsigned, NONCE)
    shared = jwt.encode({**body, "nonce": NONCE}, CLIENT_ID * 4, algorithm="HS256")
    with pytest.raises(AuthenticationError, match="algorithm is not accepted"):
        await client.verify_id_token(shared, NONCE)


@pytest.mark.parametrize("issuer", ["http://idp.example.org", "https://idp.example?x=1", "idp"])
def test_an_issuer_must_be_https_except_on_loopback(tmp_path: Path, issuer: str) -> None:
    settings = Settings(data_dir=tmp_path, oidc_issuer=issuer, oidc_client_id="node")
    with pytest.raises(ConfigurationError, match="misconfigured"):
        OidcConfig.from_settings(settings)


def test_group_roles_must_be_roles_the_node_knows(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        oidc_issuer="https://idp.example",
        oidc_client_id="node",
        oidc_group_roles={"ops": "admin", "a": "curator:site-a", "x": "superuser"},
    )
    with pytest.raises(ConfigurationError) as raised:
        OidcConfig.from_settings(settings)
    assert [d.message for d in raised.value.details] == [
        "group 'x': a role is admin, researcher or curator:<site-slug>"
    ]


def test_group_roles_add_to_the_roles_claim(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        oidc_issuer="https://idp.example",
        oidc_client_id="node",
        oidc_group_roles={"ops": "admin", "a": "curator:site-a"},
    )
    config = OidcConfig.from_settings(settings)
    assert config is not None
    claims = {"sub": "u", "groups": ["a", "b"], "roles": ["curator:site-b"]}
    identity = OidcClient(config).identity(claims)
    assert identity.sites == {"site-a", "site-b"} and not identity.is_admin
    assert identity.groups == {"a", "b"}


@pytest.mark.parametrize(
    ("suffix", "reason"), [("/", "names another issuer"), ("/elsewhere", "answered 404")]
)
async def test_a_discovery_that_does_not_fit_the_issuer_is_refused(
    provider: Provider, tmp_path: Path, suffix: str, reason: str
) -> None:
    issuer = provider.issuer + suffix
    settings = Settings(data_dir=tmp_path, oidc_issuer=issuer, oidc_client_id=CLIENT_ID)
    config = OidcConfig.from_settings(settings)
    assert config is not None
    with pytest.raises(IdentityProviderUnavailableError, match=reason):
        await OidcClient(config).begin("/")


def test_an_issuer_without_a_client_id_is_a_configuration_error(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, oidc_issuer="ftp://idp", oidc_scopes="profile")
    with pytest.raises(ConfigurationError) as raised:
        OidcConfig.from_settings(settings)
    where = {d.location for d in raised.value.details}
    assert where == {"CATALOGUE_OIDC_ISSUER", "CATALOGUE_OIDC_CLIENT_ID", "CATALOGUE_OIDC_SCOPES"}


def test_the_redirect_and_the_name_follow_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        base_url="https://catalogue.example.org/",
        oidc_issuer="https://login.example.org/realms/x/",
        oidc_client_id="node",
        oidc_client_secret=SecretStr("s"),
    )
    config = OidcConfig.from_settings(settings)
    assert config is not None
    assert config.issuer == "https://login.example.org/realms/x/"  # `iss` is compared exactly
    assert config.redirect_uri == "https://catalogue.example.org/auth/callback"
    assert config.display_name == "login.example.org" and config.client_secret == "s"
    assert OidcConfig.from_settings(Settings(data_dir=tmp_path)) is None
