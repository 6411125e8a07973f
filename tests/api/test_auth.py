"""Bearer tokens and API keys into identities; bad credentials are a 401 in the one error shape."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from api import auth, errors
from catalogue.access import Identity, Role
from catalogue.settings import Settings

pytestmark = pytest.mark.anyio

SECRET = "s" * 40
ISSUER, AUDIENCE = "https://login.example.org", "catalogue-test"


def token(secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "ada", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, "HS256")


def whoami_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    auth.install(app, settings)

    @app.get("/me")
    async def me(identity: Identity = Depends(auth.identity_from_request)) -> dict[str, Any]:
        return {
            "subject": identity.subject,
            "roles": sorted(identity.roles),
            "sites": sorted(identity.sites),
            "groups": sorted(identity.groups),
        }

    return app


@pytest.fixture
def token_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"auth_issuer": ISSUER, "auth_audience": AUDIENCE, "auth_hs256_secret": SecretStr(SECRET)}
    )


async def _me(app: FastAPI, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        return await http.get("/me", headers=headers)


async def test_no_credential_is_anonymous(token_settings: Settings) -> None:
    response = await _me(whoami_app(token_settings), {})
    assert response.status_code == 200
    assert response.json()["subject"] is None


async def test_a_good_token_maps_roles_sites_and_groups(token_settings: Settings) -> None:
    good = token(roles=["curator:site-a", "admin", "wizard"], groups=["neuro"])
    response = await _me(whoami_app(token_settings), {"Authorization": f"Bearer {good}"})
    assert response.status_code == 200
    assert response.json() == {
        "subject": "ada",
        "roles": sorted([Role.ADMIN, Role.CURATOR, Role.RESEARCHER]),
        "sites": ["site-a"],
        "groups": ["neuro"],
    }


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (token(exp=int(time.time()) - 120), "expired"),
        (token(aud="another-service"), "audience"),
        (token(iss="https://evil.example.org"), "issuer"),
        (token(secret="x" * 40), "signature"),
        (token(nbf=int(time.time()) + 3600), "not valid yet"),
        (token(exp=int(time.time()) + 10 * 86_400), "longer"),
        (token(sub=None), "claim"),
        ("not.a.jwt", "malformed"),
        (jwt.encode({"sub": "ada"}, key=None, algorithm="none"), "algorithm"),
    ],
)
async def test_bad_tokens_are_refused_with_a_401(
    token_settings: Settings, bad: str, reason: str
) -> None:
    response = await _me(whoami_app(token_settings), {"Authorization": f"Bearer {bad}"})
    assert response.status_code == 401
    body = response.json()
    assert body["error"]["code"] == "unauthenticated"
    assert reason in body["error"]["message"]
    assert bad not in response.text


async def test_a_credential_on_a_node_without_an_issuer_is_refused(settings: Settings) -> None:
    response = await _me(whoami_app(settings), {"Authorization": f"Bearer {token()}"})
    assert response.status_code == 401


async def test_a_non_bearer_scheme_is_refused(token_settings: Settings) -> None:
    response = await _me(whoami_app(token_settings), {"Authorization": "Basic YWRhOnB3"})
    assert response.status_code == 401
