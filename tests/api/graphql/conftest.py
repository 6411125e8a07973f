"""A generated multi-site catalogue in a real store, indexed, behind the node's GraphQL API.

`gql` posts a document in-process (httpx ASGI transport) as the caller the fixture chose;
`admin_api` is the same node asked by an administrator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.graphql.context import Services
from api.graphql.router import graphql_router
from bench.catalogue_generator import Catalogue, generate, load
from catalogue.access import ANONYMOUS, Identity
from catalogue.settings import Settings
from catalogue.store import Store
from ontology import Ontology

Ask = Callable[..., Awaitable[dict[str, Any]]]
ADMIN = Identity(subject="admin@node.test", roles=frozenset({"admin"}))


@pytest.fixture
def catalogue() -> Catalogue:
    return generate(subjects=80, sites=3, collections_per_site=4, seed=11)


@pytest.fixture
def node(settings: Settings, store: Store, catalogue: Catalogue, ontology: Ontology) -> FastAPI:
    """The node with the generated catalogue stored and indexed."""
    load(store, catalogue)
    app = create_app(settings, store, index_in_background=False, ontology=ontology)
    app.state.indexer.rebuild()
    return app


def as_caller(node: FastAPI, identity: Identity, settings: Settings | None = None) -> FastAPI:
    """The node's GraphQL endpoint answering as `identity`, with the node's services."""
    services: Services = node.state.graphql_services
    app = FastAPI()

    async def identify(_request: object) -> Identity:
        return identity

    chosen = Services(**{**vars(services), "identify": identify})
    app.include_router(graphql_router(settings or node.state.settings, chosen), prefix="/graphql")
    return app


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        yield http


def asker(http: httpx.AsyncClient) -> Ask:
    async def ask(document: str, variables: dict[str, Any] | None = None, **more: Any) -> Any:
        body: dict[str, Any] = {"query": document, "variables": variables or {}, **more}
        response = await http.post("/graphql", json=body)
        assert response.status_code == 200, response.text
        assert "Traceback" not in response.text
        return response.json()

    return ask


@pytest.fixture
async def api(node: FastAPI) -> AsyncIterator[Ask]:
    async for http in _client(node):
        yield asker(http)


@pytest.fixture
async def admin_api(node: FastAPI) -> AsyncIterator[Ask]:
    async for http in _client(as_caller(node, ADMIN)):
        yield asker(http)


def data(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


__all__ = ["ADMIN", "ANONYMOUS", "as_caller", "codes", "data"]
