"""Operations: `/health` (alive), `/ready` (store, search engine, index lag), `/metrics`
(Prometheus), and the request guards every route passes: a span and metrics per request, the
body size limit, the rate limit per identity, CORS. Refusals use the one JSON error body.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import identity_from_request
from api.errors import error_body
from api.ratelimit import TokenBuckets
from api.telemetry import tracer
from catalogue import __version__
from catalogue.errors import AuthenticationError
from catalogue.operations import harvest_totals, index_backlog, readiness
from catalogue.settings import Settings
from catalogue.store import Store

PROBES = frozenset({"/health", "/ready", "/metrics"})  # never rate-limited


def install(app: FastAPI, settings: Settings, store: Store) -> None:
    """Routes and guards, in the order requests meet them: CORS, observe, size, rate."""
    metrics = Metrics(store)
    app.state.metrics = metrics
    _routes(app, settings, store, metrics)
    if settings.rate_limit_per_minute > 0:
        buckets = TokenBuckets(settings.rate_limit_per_minute, settings.rate_limit_burst)
        app.add_middleware(RateLimit, buckets=buckets, metrics=metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(Observe, metrics=metrics)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key"],
            max_age=600,
        )


def _routes(app: FastAPI, settings: Settings, store: Store, metrics: Metrics) -> None:
    @app.get("/health", tags=["node"], summary="Liveness: the process answers")
    async def get_health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/ready",
        tags=["node"],
        summary="Readiness: store, search engine and index lag",
        responses={503: {"description": "A part is not ready; `details` say which and why."}},
    )
    async def get_ready() -> JSONResponse:
        checks = await run_in_threadpool(readiness, settings, store)
        if all(c.ok for c in checks):
            body = {"status": "ready", "checks": {c.name: c.detail for c in checks}}
            return JSONResponse(body)
        failing: list[dict[str, str | None]] = [
            {"location": c.name, "message": c.detail} for c in checks if not c.ok
        ]
        return JSONResponse(error_body("not_ready", "the node is not ready", failing), 503)

    if settings.metrics_enabled:

        @app.get("/metrics", tags=["node"], summary="Prometheus metrics")
        async def get_metrics() -> Response:
            body = await run_in_threadpool(generate_latest, metrics.registry)
            return Response(body, media_type=CONTENT_TYPE_LATEST)


class Metrics:
    """One registry per app (tests build many apps; the process-wide registry would clash)."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "catalogue_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "catalogue_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.limited = Counter(
            "catalogue_rate_limited", "Requests refused by the rate limit.", registry=self.registry
        )
        self.registry.register(_StoreCollector(store))


class _StoreCollector:
    """Figures read from the store at scrape time: index backlog, harvests per source."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> list[Metric]:
        return []  # read at scrape time only; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        backlog = index_backlog(self.store)
        yield GaugeMetricFamily(
            "catalogue_index_pending_changes",
            "Catalogue changes waiting in the outbox for the search index.",
            value=backlog.pending,
        )
        yield GaugeMetricFamily(
            "catalogue_index_lag_seconds",
            "Age of the oldest change the search index has not applied (0: up to date).",
            value=backlog.lag_seconds,
        )
        runs = CounterMetricFamily(
            "catalogue_harvest_runs",
            "Harvest runs by source and status.",
            labels=["source", "status"],
        )
        records = CounterMetricFamily(
            "catalogue_harvest_records",
            "Records harvested by source and outcome (seen, added, updated, deleted, failed).",
            labels=["source", "outcome"],
        )
        outcomes: dict[tuple[str, str], int] = {}
        for t in harvest_totals(self.store):
            runs.add_metric([t.source, t.status], t.runs)
            for outcome in ("seen", "added", "updated", "deleted", "failed"):
                key = (t.source, outcome)
                outcomes[key] = outcomes.get(key, 0) + int(getattr(t, outcome))
        for (source, outcome), value in sorted(outcomes.items()):
            records.add_metric([source, outcome], value)
        yield runs
        yield records


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if route is None or path is None:
        return "unmatched"
    return path or "/"


class Observe:
    """A server span and the request metrics around every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        method, started = scope["method"], time.perf_counter()
        with tracer.start_as_current_span(f"{method}", kind=SpanKind.SERVER) as span:
            try:
                await self.app(scope, receive, sending)
            finally:
                route = _route(scope)
                span.update_name(f"{method} {route}")
                span.set_attributes(
                    {"http.request.method": method, "http.route": route,
                     "http.response.status_code": status["code"]}
                )  # fmt: skip
                if status["code"] >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
                self.metrics.requests.labels(method, route, str(status["code"])).inc()


class BodyLimit:
    """Refuse bodies over the limit: at once when Content-Length says so, else when reading
    crosses it (an HTTP 413 raised inside the app, answered by the error handlers)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            message = f"the request body exceeds {self.max_bytes} bytes"
            await _refuse(scope, receive, send, 413, "payload_too_large", message)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise HTTPException(413, f"the request body exceeds {self.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)


class RateLimit:
    """A token bucket per identity (per client address when anonymous)."""

    def __init__(self, app: ASGIApp, buckets: TokenBuckets, metrics: Metrics) -> None:
        self.app, self.buckets, self.metrics = app, buckets, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            identity = await identity_from_request(connection)
        except AuthenticationError as exc:
            await _refuse(
                scope, receive, send, 401, exc.code, exc.message, {"WWW-Authenticate": "Bearer"}
            )
            return
        if identity.subject is not None:
            caller = f"{identity.via}:{identity.subject}"
        else:
            caller = f"address:{connection.client.host if connection.client else '?'}"
        wait = self.buckets.take(caller)
        if wait is not None:
            self.metrics.limited.inc()
            headers = {"Retry-After": str(max(1, round(wait)))}
            message = "too many requests: slow down and retry later"
            await _refuse(scope, receive, send, 429, "too_many_requests", message, headers)
            return
        await self.app(scope, receive, send)


async def _refuse(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> None:
    response = JSONResponse(error_body(code, message), status, headers=headers)
    await response(scope, receive, send)
