"""Sign-in with a real OpenID Connect provider (oidc-provider on Node.js): the full code flow with
PKCE from `/auth/login` to a node token the API knows, and every way it must fail clearly."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from catalogue.access import Identity
from catalogue.grants import GrantService
from catalogue.models import Collection, GrantLevel, PrincipalKind, Source, Visibility
from catalogue.settings import Settings
from catalogue.store import Store
from ontology import Ontology
from tests.oidc import CLIENT_ID, CLIENT_SECRET, PUBLIC_CLIENT_ID, Provider, running_provider

pytestmark = [pytest.mark.anyio, pytest.mark.oidc]

NODE = "http://node.test"
ACCOUNTS = {
    "ada": {"name": "Ada", "groups": ["neuro"]},
    "root": {"name": "Root", "groups": ["ops"], "roles": ["admin"]},
    "bob": {"name": "Bob", "groups": []},
    "eve": {"name": "Eve", "groups": ["catalogue-admins"]},  # admin by group, no roles claim
}
ME = "{ me { anonymous subject roles groups via } }"
ADMIN = Identity("operator", frozenset({"admin"}))


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    workdir = tmp_path_factory.mktemp("oidc")
    with running_provider(workdir, f"{NODE}/auth/callback", ACCOUNTS) as running:
        yield running


def oidc_settings(tmp_path: Path, issuer: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        base_url=NODE,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SecretStr(CLIENT_SECRET),
        oidc_scopes="openid profile groups",
        oidc_display_name="Test IdP",
        oidc_group_roles={"catalogue-admins": "admin"},
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'catalogue.db'}", NODE)
    store.upgrade()
    yield store
    store.dispose()


@pytest.fixture
def node(tmp_path: Path, provider: Provider, store: Store, ontology: Ontology) -> FastAPI:
    settings = oidc_settings(tmp_path, provider.issuer)
    return create_app(settings, store, index_in_background=False, ontology=ontology)


@pytest.fixture
async def browser(node: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that reaches the node in-process and the provider over the network, keeping
    cookies and following redirects like a browser."""
    mounts = {NODE: httpx.ASGITransport(app=node, raise_app_exceptions=False)}
    async with httpx.AsyncClient(mounts=mounts, follow_redirects=True, timeout=30) as http:
        yield http


async def sign_in(browser: httpx.AsyncClient, return_to: str = "/") -> httpx.Response:
    return await browser.get(f"{NODE}/auth/login", params={"return_to": return_to})


def token_of(response: httpx.Response) -> str:
    """The node token handed back in the fragment of the last redirect."""
    location = response.history[-1].headers["location"]
    found = re.search(r"#session=([^&]+)$", location)
    assert found is not None, location
    return found.group(1)


async def ask(browser: httpx.AsyncClient, token: str, query: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    reply = await browser.post(f"{NODE}/graphql", json={"query": query}, headers=headers)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


async def test_config_offers_the_issuer(browser: httpx.AsyncClient) -> None:
    reply = await browser.get(f"{NODE}/auth/config")
    assert reply.json() == {"enabled": True, "name": "Test IdP", "login": "/auth/login"}


async def test_sign_in_hands_the_page_a_node_token_for_the_oidc_identity(
    browser: httpx.AsyncClient, provider: Provider
) -> None:
    provider.next_sign_in("ada")
    reply = await sign_in(browser, "/harvest.html?tab=runs")
    assert reply.status_code == 200
    assert reply.history[0].status_code == 302
    location = reply.history[-1].headers["location"]
    assert location.startswith("/harvest.html?tab=runs#session=")
    assert reply.history[-1].headers["cache-control"] == "no-store"
    me = (await ask(browser, token_of(reply), ME))["data"]["me"]
    assert me == {
        "anonymous": False,
        "subject": f"oidc:{provider.issuer}#ada",
        "roles": ["researcher"],
        "groups": ["neuro"],
        "via": "oidc",
    }
    assert "catalogue_login" not in browser.cookies  # the login state is read once


def _private_collection(store: Store) -> Collection:
    site = store.ensure_site("site-oidc", "OIDC site")
    with store.session() as session:
        source = Source(name="oidc", kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()
        collection = Collection(
            source_id=source.id, native_id="c", site_id=site.id, title="Registry",
            visibility=Visibility.PRIVATE,
        )  # fmt: skip
        session.add(collection)
    return collection


async def test_groups_from_the_issuer_meet_grants_and_roles(
    browser: httpx.AsyncClient, provider: Provider, store: Store
) -> None:
    collection = _private_collection(store)
    neuro = (PrincipalKind.GROUP, "neuro")
    GrantService(store).grant(ADMIN, collection.id, neuro, GrantLevel.COUNTS)
    titles = "{ collections { edges { node { title } } } }"
    audit = "{ auditLog(first: 1) { totalCount } }"
    seen = {}
    for account in ("ada", "bob", "root", "eve"):
        browser.cookies.clear()  # a new browser: no session at the provider either
        provider.next_sign_in(account)
        token = token_of(await sign_in(browser))
        listed = (await ask(browser, token, titles))["data"]["collections"]["edges"]
        audited = await ask(browser, token, audit)
        seen[account] = ([e["node"]["title"] for e in listed], "errors" not in audited)
    assert seen == {
        "ada": (["Registry"], False),  # a grant to her group
        "bob": ([], False),
        "root": (["Registry"], True),  # admin by the roles claim
        "eve": (["Registry"], True),  # admin by her group
    }


async def test_a_public_client_signs_in_with_pkce_alone(
    tmp_path: Path, provider: Provider, store: Store, ontology: Ontology
) -> None:
    settings = oidc_settings(tmp_path, provider.issuer).model_copy(
        update={"oidc_client_id": PUBLIC_CLIENT_ID, "oidc_client_secret": None}
    )
    app = create_app(settings, store, index_in_background=False, ontology=ontology)
    provider.next_sign_in("bob")
    mounts = {NODE: httpx.ASGITransport(app=app, raise_app_exceptions=False)}
    async with httpx.AsyncClient(mounts=mounts, follow_redirects=True, timeout=30) as http:
        me = (await ask(http, token_of(await sign_in(http)), ME))["data"]["me"]
    assert me["subject"] == f"oidc:{provider.issuer}#bob"


async def test_only_pages_of_this_node_are_returned_to(
    browser: httpx.AsyncClient, provider: Provider
) -> None:
    provider.next_sign_in("bob")
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "x"):
        browser.cookies.clear()
        reply = await sign_in(browser, elsewhere)
        assert reply.history[-1].headers["location"].startswith("/#session="), elsewhere


async def test_signing_out_refuses_the_token(
    browser: httpx.AsyncClient, provider: Provider
) -> None:
    provider.next_sign_in("bob")
    token = token_of(await sign_in(browser))
    headers = {"Authorization": f"Bearer {token}"}
    assert (await browser.post(f"{NODE}/auth/logout", headers=headers)).status_code == 204
    reply = await browser.post(f"{NODE}/graphql", json={"query": ME}, headers=headers)
    assert reply.status_code == 401 and "revoked" in reply.text


async def test_a_tampered_state_is_refused(browser: httpx.AsyncClient, provider: Provider) -> None:
    provider.next_sign_in("ada")
    start = await browser.get(f"{NODE}/auth/login", follow_redirects=False)
    authorize = httpx.URL(start.headers["location"])
    tampered = authorize.copy_set_param("state", "forged-" + authorize.params["state"])
    reply = await browser.get(tampered)
    assert reply.status_code == 401
    assert "state does not match" in reply.text and "Traceback" not in reply.text
    assert "#session=" not in str(reply.url)


async def test_an_answer_naming_another_issuer_is_refused(
    browser: httpx.AsyncClient, provider: Provider
) -> None:
    provider.next_sign_in("ada")
    start = await browser.get(f"{NODE}/auth/login", follow_redirects=False)
    cookie = browser.cookies["catalogue_login"]
    reply = await browser.get(start.headers["location"])
    answer = next(r.url for r in reply.history if str(r.url).startswith(f"{NODE}/auth/callback"))
    assert answer.params["iss"] == provider.issuer  # the provider names itself (RFC 9207)
    browser.cookies.set("catalogue_login", cookie, domain="node.test", path="/auth")
    mixed_up = await browser.get(answer.copy_set_param("iss", "https://evil.example"))
    assert mixed_up.status_code == 401 and "another issuer" in mixed_up.text


def test_access_logs_show_the_callback_without_its_code(node: FastAPI) -> None:
    access = logging.getLogger("uvicorn.access")
    args = ("127.0.0.1:5", "GET", "/auth/callback?code=SECRET&state=S", "1.1", 303)
    record = access.makeRecord("uvicorn.access", logging.INFO, "h", 1, '%s - "%s %s HTTP/%s" %d',
                               args, None)  # fmt: skip
    assert all(f.filter(record) for f in access.filters if isinstance(f, logging.Filter))
    assert record.getMessage() == '127.0.0.1:5 - "GET /auth/callback?... HTTP/1.1" 303'


async def test_a_callback_without_the_login_cookie_is_refused(browser: httpx.AsyncClient) -> None:
    reply = await browser.get(f"{NODE}/auth/callback", params={"code": "x", "state": "y"})
    assert reply.status_code == 401 and "sign-in state is missing" in reply.text


async def test_a_user_refusing_at_the_issuer_gets_a_clear_page(
    browser: httpx.AsyncClient, provider: Provider
) -> None:
    provider.next_sign_in("deny")
    reply = await sign_in(browser, "/harvest.html")
    assert reply.status_code == 401
    assert "refused or cancelled at the issuer" in reply.text
    assert 'href="/harvest.html"' in reply.text


async def test_a_replayed_code_is_refused(browser: httpx.AsyncClient, provider: Provider) -> None:
    provider.next_sign_in("ada")
    start = await browser.get(f"{NODE}/auth/login", follow_redirects=False)
    cookie = browser.cookies["catalogue_login"]
    reply = await browser.get(start.headers["location"])
    callback = next(r for r in reply.history if str(r.url).startswith(f"{NODE}/auth/callback"))
    browser.cookies.set("catalogue_login", cookie, domain="node.test", path="/auth")
    again = await browser.get(str(callback.url))
    assert again.status_code == 401 and "refused the sign-in code (invalid_grant)" in again.text


async def test_an_unreachable_issuer_is_a_clear_error(
    tmp_path: Path, store: Store, ontology: Ontology
) -> None:
    settings = oidc_settings(tmp_path, "http://127.0.0.1:9")  # discard port: nothing listens
    app = create_app(settings, store, index_in_background=False, ontology=ontology)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=NODE) as http:
        reply = await http.get("/auth/login")
    assert reply.status_code == 502
    assert "cannot be reached" in reply.text and "Traceback" not in reply.text


async def test_without_an_issuer_there_is_no_sign_in(
    tmp_path: Path, store: Store, ontology: Ontology
) -> None:
    settings = Settings(data_dir=tmp_path / "var", base_url=NODE)
    app = create_app(settings, store, index_in_background=False, ontology=ontology)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=NODE) as http:
        assert (await http.get("/auth/config")).json() == {"enabled": False}
        assert (await http.get("/auth/login")).status_code == 404
