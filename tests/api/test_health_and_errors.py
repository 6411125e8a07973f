"""`/health`, `/ready`, OpenAPI and the one JSON error shape."""

from __future__ import annotations

import socket

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from api.errors import STATUS, error_body, status_of
from catalogue import errors
from catalogue.settings import Settings
from catalogue.store import Store

pytestmark = pytest.mark.anyio


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        return await http.request(method, path)


async def test_health_is_green_on_the_embedded_defaults(client: httpx.AsyncClient) -> None:
    live = await client.get("/health")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"store", "search", "index"}


async def test_ready_reports_an_unreachable_search_engine(settings: Settings, store: Store) -> None:
    down = settings.model_copy(
        update={
            "search_backend": "elasticsearch",
            "elasticsearch_url": f"http://127.0.0.1:{_closed_port()}",
        }
    )
    app = create_app(down, store)
    assert (await _get(app, "/health")).status_code == 200  # alive, not ready
    response = await _get(app, "/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "not_ready"
    failing = {d["location"]: d["message"] for d in body["error"]["details"]}
    assert set(failing) == {"search"}
    assert "unreachable" in failing["search"]


async def test_ready_reports_an_unmigrated_store(settings: Settings, empty_store: Store) -> None:
    response = await _get(create_app(settings, empty_store), "/ready")
    assert response.status_code == 503
    failing = {d["location"]: d["message"] for d in response.json()["error"]["details"]}
    assert "schema empty" in failing["store"]


@pytest.mark.elasticsearch
async def test_ready_with_a_real_elasticsearch(
    settings: Settings, store: Store, elasticsearch_url: str
) -> None:
    real = settings.model_copy(
        update={"search_backend": "elasticsearch", "elasticsearch_url": elasticsearch_url}
    )
    response = await _get(create_app(real, store), "/ready")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["search"].startswith("elasticsearch 8.")


async def test_openapi_is_published(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert {"/health", "/ready", "/metrics"} <= set(spec["paths"])


@pytest.mark.parametrize(
    ("path", "method", "status", "code"),
    [
        ("/no/such/page", "GET", 404, "not_found"),
        ("/health", "DELETE", 405, "method_not_allowed"),
    ],
)
async def test_http_errors_have_the_one_shape(
    client: httpx.AsyncClient, path: str, method: str, status: int, code: str
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert response.json() == error_body(code, response.json()["error"]["message"])


async def test_catalogue_errors_and_crashes_have_the_one_shape(
    settings: Settings, store: Store
) -> None:
    app = create_app(settings, store)

    @app.get("/raise/{kind}")
    async def boom(kind: str) -> None:
        if kind == "missing":
            raise errors.NotFoundError("no such series", [errors.ErrorDetail("no match", "id")])
        raise RuntimeError("secret header value PATIENT^NAME")

    app.router.routes.insert(0, app.router.routes.pop())  # before the static files mount
    missing = await _get(app, "/raise/missing")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {
            "code": "not_found",
            "message": "no such series",
            "details": [{"location": "id", "message": "no match"}],
        }
    }
    crash = await _get(app, "/raise/crash")
    assert crash.status_code == 500
    assert crash.json() == error_body("internal_error", "an unexpected error occurred")
    assert "PATIENT" not in crash.text


def test_every_error_class_has_a_status() -> None:
    public = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type)
        and issubclass(cls, errors.CatalogueError)
        and cls not in {errors.CatalogueError, errors.ConfigurationError}
    ]
    assert len(public) > 8
    assert [cls.__name__ for cls in public if status_of(cls("x")) == 500] == []
    assert STATUS[errors.SearchUnavailableError] == 503
