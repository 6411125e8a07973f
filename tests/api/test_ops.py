"""Operations over HTTP: metrics, rate limits, body size limits, CORS, spans and JSON logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import jwt
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from api.app import create_app
from api.ratelimit import TokenBuckets
from api.telemetry import JsonFormatter, setup_logging
from catalogue.access import ANONYMOUS
from catalogue.models import HarvestRun, OutboxEntry, OutboxOp, RunStatus, Source
from catalogue.settings import Settings
from catalogue.store import Store

pytestmark = pytest.mark.anyio
SECRET = "k" * 40
GRAPHQL = {"query": "{ node { version } }"}


def _token(subject: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": subject, "iat": now, "exp": now + 300}, SECRET, "HS256")


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """An SDK with an in-memory exporter, installed once for the process (spans elsewhere are
    simply recorded too)."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        yield http


@pytest.fixture
async def ops_client(settings: Settings, store: Store) -> AsyncIterator[httpx.AsyncClient]:
    tight = settings.model_copy(
        update={
            "rate_limit_per_minute": 60,
            "rate_limit_burst": 3,
            "max_request_bytes": 2048,
            "cors_origins": ["https://ui.example.org"],
            "auth_hs256_secret": SecretStr(SECRET),
        }
    )
    async for http in _client(create_app(tight, store, index_in_background=False)):
        yield http


async def test_metrics_count_requests_latency_harvests_and_index_lag(
    settings: Settings, store: Store
) -> None:
    site = store.ensure_site("site-a", "Hospital A")
    with store.session() as session:
        source = Source(name="pacs", kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()
        for status, seen in ((RunStatus.SUCCEEDED, 40), (RunStatus.FAILED, 2)):
            session.add(HarvestRun(source_id=source.id, status=status, seen=seen, failed=1))
        session.add(OutboxEntry(entity_type="subject", entity_id=site.id, op=OutboxOp.UPSERT))
    app = create_app(settings, store, index_in_background=False)
    async for http in _client(app):
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/no/such/page")).status_code == 404
        response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'catalogue_http_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert 'catalogue_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text
    assert (
        'catalogue_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"}'
        in text
    )
    assert 'catalogue_harvest_runs_total{source="pacs",status="succeeded"} 1.0' in text
    assert 'catalogue_harvest_records_total{outcome="seen",source="pacs"} 42.0' in text
    assert 'catalogue_harvest_records_total{outcome="failed",source="pacs"} 2.0' in text
    assert "catalogue_index_pending_changes 1.0" in text
    lag = next(line for line in text.splitlines() if line.startswith("catalogue_index_lag_seconds"))
    assert float(lag.split()[-1]) >= 0


async def test_rate_limit_per_identity(ops_client: httpx.AsyncClient) -> None:
    answers = [(await ops_client.post("/graphql", json=GRAPHQL)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = await ops_client.post("/graphql", json=GRAPHQL)
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) >= 1
    # another identity has its own bucket; probes are never limited
    signed = {"Authorization": f"Bearer {_token('ada')}"}
    assert (await ops_client.post("/graphql", json=GRAPHQL, headers=signed)).status_code == 200
    assert (await ops_client.get("/health")).status_code == 200


async def test_a_bad_credential_is_refused_before_anything_else(
    ops_client: httpx.AsyncClient,
) -> None:
    response = await ops_client.post(
        "/graphql", json=GRAPHQL, headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_body_size_limit(ops_client: httpx.AsyncClient) -> None:
    big = {"query": "{ node { version } }", "variables": {"pad": "x" * 4000}}
    declared = await ops_client.post("/graphql", json=big)
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        yield json.dumps(big).encode()[:1500]
        yield json.dumps(big).encode()[1500:]

    streamed = await ops_client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "payload_too_large"


async def test_cors_allows_only_the_configured_origins(
    ops_client: httpx.AsyncClient, settings: Settings, store: Store
) -> None:
    asked = {"Access-Control-Request-Method": "POST"}
    good = await ops_client.options(
        "/graphql", headers={**asked, "Origin": "https://ui.example.org"}
    )
    assert good.headers["access-control-allow-origin"] == "https://ui.example.org"
    evil = await ops_client.options("/graphql", headers={**asked, "Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in evil.headers
    async for plain in _client(create_app(settings, store, index_in_background=False)):
        response = await plain.get("/health", headers={"Origin": "https://ui.example.org"})
        assert "access-control-allow-origin" not in response.headers


async def test_spans_around_requests_searches_and_store_calls(
    spans: InMemorySpanExporter, settings: Settings, store: Store
) -> None:
    spans.clear()
    app = create_app(settings, store, index_in_background=False)
    async for http in _client(app):
        assert (await http.get("/ready")).status_code == 200
    app.state.search.search(ANONYMOUS, {"text": "x"})
    finished: tuple[ReadableSpan, ...] = spans.get_finished_spans()
    names = {s.name for s in finished}
    assert "GET /ready" in names and "search.search" in names
    assert any(n.startswith("store SELECT") for n in names)
    request = next(s for s in finished if s.name == "GET /ready")
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 200
    stored = [s for s in finished if s.name.startswith("store ")]
    assert all(set(s.attributes or {}) == {"db.system", "db.operation"} for s in stored)


def test_json_logs_carry_the_trace_id(spans: InMemorySpanExporter) -> None:
    record = logging.LogRecord(
        "catalogue.test", logging.INFO, __file__, 1, "hello %s", ("x",), None
    )
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("outer") as span:
        line = json.loads(JsonFormatter().format(record))
        trace_id = format(span.get_span_context().trace_id, "032x")
    assert line["message"] == "hello x" and line["level"] == "INFO"
    assert line["trace_id"] == trace_id and len(line["span_id"]) == 16
    outside = json.loads(JsonFormatter().format(record))
    assert "trace_id" not in outside


def test_the_otlp_exporter_switches_on_from_settings(tmp_path: object) -> None:
    """In a fresh process: the SDK provider is installed only when the setting says so."""
    script = (
        "from opentelemetry import trace\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from api.telemetry import setup_tracing\n"
        "from catalogue.settings import Settings\n"
        "setup_tracing(Settings())\n"
        "print(isinstance(trace.get_tracer_provider(), TracerProvider))\n"
        "setup_tracing(Settings(otel_enabled=True, otel_endpoint='http://127.0.0.1:9/v1/traces'))\n"
        "print(isinstance(trace.get_tracer_provider(), TracerProvider))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_token_buckets_refill_at_the_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(per_minute=60, burst=2, clock=lambda: now[0])
    assert buckets.take("a") is None and buckets.take("a") is None
    wait = buckets.take("a")
    assert wait is not None and 0.9 < wait <= 1.0
    assert buckets.take("b") is None
    now[0] = 1.0
    assert buckets.take("a") is None
    assert buckets.take("a") is not None


def test_json_logging_switches_on_from_settings(settings: Settings) -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        setup_logging(settings)
        assert root.handlers == before
        setup_logging(settings.model_copy(update={"log_json": True, "log_level": "WARNING"}))
        setup_logging(settings.model_copy(update={"log_json": True, "log_level": "WARNING"}))
        added = [h for h in root.handlers if h not in before]
        assert len(added) == 1 and isinstance(added[0].formatter, JsonFormatter)
        assert root.level == logging.WARNING
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
