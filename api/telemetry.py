"""Traces and logs. Spans come from `opentelemetry-api` everywhere (a no-op until an SDK is
installed); the SDK and its OTLP/HTTP exporter switch on from settings (`telemetry` extra).
Logs can be JSON lines carrying the current trace and span ids. Neither ever carries a query's
parameters or a header's value: SQL spans name only the operation.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from sqlalchemy import event
from sqlalchemy.engine import Engine

from catalogue.errors import ConfigurationError
from catalogue.settings import Settings

tracer = trace.get_tracer("catalogue.api")
_SPAN_KEY = "_catalogue_span"


def setup_tracing(settings: Settings) -> None:
    """Install the SDK with an OTLP exporter, once per process, when settings ask for it."""
    if not settings.otel_enabled:
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigurationError(
            "CATALOGUE_OTEL_ENABLED needs the telemetry extra: "
            "pip install 'imaging-catalogue[telemetry]'"
        ) from None
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # set up already in this process
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    endpoint = str(settings.otel_endpoint) if settings.otel_endpoint else None
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace and span ids."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            body["trace_id"] = format(context.trace_id, "032x")
            body["span_id"] = format(context.span_id, "016x")
        if record.exc_info and record.exc_info[0] is not None:
            body["exception"] = record.exc_info[0].__name__  # the type only: messages may echo
        return json.dumps(body, ensure_ascii=False)


def setup_logging(settings: Settings) -> None:
    """JSON lines on stderr, at the configured level, when `log_json` is set (otherwise the
    process's own logging setup, e.g. uvicorn's, stays as it is)."""
    if not settings.log_json:
        return
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    for handler in list(root.handlers):
        if getattr(handler, "_catalogue_json", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler._catalogue_json = True  # type: ignore[attr-defined]
    root.addHandler(handler)


def instrument_store(engine: Engine) -> None:
    """A span around every statement the store runs, named by its operation only."""
    if getattr(engine, "_catalogue_traced", False):
        return
    engine._catalogue_traced = True  # type: ignore[attr-defined]
    system = engine.dialect.name

    @event.listens_for(engine, "before_cursor_execute")
    def _start(
        _conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        words = statement.split(None, 1)
        operation = words[0].upper() if words else "SQL"
        span = tracer.start_span(
            f"store {operation}", attributes={"db.system": system, "db.operation": operation}
        )
        if context is not None:
            setattr(context, _SPAN_KEY, span)

    @event.listens_for(engine, "after_cursor_execute")
    def _end(
        _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        span = getattr(context, _SPAN_KEY, None)
        if span is not None:
            delattr(context, _SPAN_KEY)
            span.end()

    @event.listens_for(engine, "handle_error")
    def _failed(error: Any) -> None:
        span = getattr(error.execution_context, _SPAN_KEY, None)
        if span is not None:
            delattr(error.execution_context, _SPAN_KEY)
            span.set_status(Status(StatusCode.ERROR, type(error.original_exception).__name__))
            span.end()
