"""Bearer tokens and API keys into identities; bad credentials are a 401 in the one error shape."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from api import auth, errors
from catalogue.access import Identity, Role
from catalogue.apikeys import ApiKeyService
from catalogue.authentication import Authenticator, token_verifier
from catalogue.errors import PermissionDeniedError, ValidationError
from catalogue.models import ApiKey, utcnow
from catalogue.revocations import TokenRevocations
from catalogue.settings import Settings
from catalogue.store import Store

pytestmark = pytest.mark.anyio

SECRET = "s" * 40
ADMIN = Identity("root", frozenset({"admin"}))
ISSUER, AUDIENCE = "https://login.example.org", "catalogue-test"


def token(secret: str = SECRET, **claims: Any) -> str:
    now = int(time.time())
    body = {"sub": "ada", "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, "HS256")


def whoami_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    app.state.authenticator = Authenticator(token_verifier(settings, lambda _jti: False), None)

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
        update={
            "auth_issuer": ISSUER,
            "auth_audience": AUDIENCE,
            "auth_hs256_secret": SecretStr(SECRET),
        }
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


# -- revocation and API keys, against the store --------------------------------------------------
def keyed_app(settings: Settings, store: Store) -> FastAPI:
    app = whoami_app(settings)
    auth.install(app, settings, store)
    return app


async def test_a_revoked_token_is_refused(token_settings: Settings, store: Store) -> None:
    app = keyed_app(token_settings, store)
    good = token(jti="t-1")
    assert (await _me(app, {"Authorization": f"Bearer {good}"})).status_code == 200
    TokenRevocations(store).revoke(ADMIN, "t-1", reason="laptop lost")
    response = await _me(app, {"Authorization": f"Bearer {good}"})
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
    other = token(jti="t-2")
    assert (await _me(app, {"Authorization": f"Bearer {other}"})).status_code == 200


async def test_a_jwks_file_verifies_rs256_tokens_and_refuses_another_key(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    private, stranger = (rsa.generate_private_key(65537, 2048) for _ in range(2))
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1"}]}))
    configured = settings.model_copy(
        update={"auth_audience": AUDIENCE, "auth_jwks_file": tmp_path / "jwks.json"}
    )
    app = keyed_app(configured, store)
    claims = {"sub": "ada", "aud": AUDIENCE, "iat": int(time.time()), "exp": int(time.time()) + 60}
    signed = jwt.encode(claims, private, "RS256", headers={"kid": "k1"})
    forged = jwt.encode(claims, stranger, "RS256", headers={"kid": "k1"})
    hs = jwt.encode(claims, SECRET, "HS256", headers={"kid": "k1"})
    assert (await _me(app, {"Authorization": f"Bearer {signed}"})).json()["subject"] == "ada"
    assert (await _me(app, {"Authorization": f"Bearer {forged}"})).status_code == 401
    assert (await _me(app, {"Authorization": f"Bearer {hs}"})).status_code == 401


async def test_api_keys_identify_their_client_with_its_scopes(
    settings: Settings, store: Store
) -> None:
    keys = ApiKeyService(store)
    key, view = keys.create(ADMIN, "platform-x", ["counts:read"], days=30)
    assert view.id in key and view.scopes == ["counts:read"]
    with store.session() as session:
        stored = session.get(ApiKey, view.id)
        assert stored is not None and key.rsplit("_", 1)[-1] not in stored.secret_hash
    app = keyed_app(settings, store)
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
        response = await _me(app, headers)
        assert response.status_code == 200
        assert response.json()["subject"] == "platform-x"
        assert response.json()["roles"] == ["client"]
    identity = keys.verify(key)
    assert identity.scopes == frozenset({"counts:read"}) and identity.is_client


@pytest.mark.parametrize(
    "damage", ["wrong secret", "unknown id", "malformed", "revoked", "expired"]
)
async def test_bad_api_keys_are_refused(settings: Settings, store: Store, damage: str) -> None:
    keys = ApiKeyService(store)
    key, view = keys.create(ADMIN, "platform-x", ["records:read"], days=30)
    if damage == "wrong secret":
        key = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    elif damage == "unknown id":
        key = "cat_000000000000_" + key.rsplit("_", 1)[-1]
    elif damage == "malformed":
        key = "cat_short"
    elif damage == "revoked":
        keys.revoke(ADMIN, view.id)
    else:
        with store.session() as session:
            row = session.get(ApiKey, view.id)
            assert row is not None
            row.expires_at = utcnow() - timedelta(seconds=1)
            session.add(row)
    response = await _me(keyed_app(settings, store), {"X-API-Key": key})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert key not in response.text


def test_only_admins_manage_keys_and_scopes_are_checked(store: Store) -> None:
    keys = ApiKeyService(store, max_days=90)
    researcher = Identity("bob", frozenset({"researcher"}))
    with pytest.raises(PermissionDeniedError):
        keys.create(researcher, "platform-x", ["records:read"], days=30)
    with pytest.raises(ValidationError) as raised:
        keys.create(ADMIN, "platform-x", ["write:everything"], days=365)
    assert {d.location for d in raised.value.details} == {"scopes", "days"}


async def test_a_refused_credential_carries_the_bearer_challenge(token_settings: Settings) -> None:
    response = await _me(whoami_app(token_settings), {"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_jwks_url_is_fetched_and_an_unreachable_one_refuses(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    private = rsa.generate_private_key(65537, 2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    document = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    claims = {"sub": "ada", "iat": int(time.time()), "exp": int(time.time()) + 60}
    signed = jwt.encode(claims, private, "RS256", headers={"kid": "k1"})
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        app = keyed_app(settings.model_copy(update={"auth_jwks_url": url}), store)
        response = await _me(app, {"Authorization": f"Bearer {signed}"})
        assert response.status_code == 200 and response.json()["subject"] == "ada"
    finally:
        server.shutdown()
        server.server_close()
    closed = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    app = keyed_app(settings.model_copy(update={"auth_jwks_url": closed}), store)
    response = await _me(app, {"Authorization": f"Bearer {signed}"})
    assert response.status_code == 401
    assert "keys cannot be fetched" in response.json()["error"]["message"]
