"""Checks of a node's parts, shared by `/ready` (`catalogue.operations`) and `catalogue doctor`.

Each check says what it found and, when it fails, what to do about it.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx
from opentelemetry import trace
from pydantic import BaseModel

from catalogue.errors import CatalogueError
from catalogue.settings import Settings
from catalogue.sources import load_sources
from catalogue.store import Store

tracer = trace.get_tracer(__name__)
SEARCH_TIMEOUT_S = 3.0


class CheckResult(BaseModel):
    name: str
    ok: bool
    detail: str
    fix: str | None = None


def check_data_dir(settings: Settings) -> CheckResult:
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        return CheckResult(
            name="data directory",
            ok=False,
            detail=f"{path}: {exc.strerror}",
            fix="set CATALOGUE_DATA_DIR (or --data-dir) to a writable directory",
        )
    return CheckResult(name="data directory", ok=True, detail=str(path))


def check_store(store: Store) -> CheckResult:
    with tracer.start_as_current_span("check.store"):
        try:
            store.ping()
            current, head = store.current_revision(), store.head_revision()
        except CatalogueError as exc:
            return CheckResult(
                name="store",
                ok=False,
                detail=exc.message,
                fix="start the database or correct CATALOGUE_DATABASE_URL",
            )
    if current != head:
        return CheckResult(
            name="store",
            ok=False,
            detail=f"{store.display_url} is at schema {current or 'empty'}, code expects {head}",
            fix="run `catalogue migrate`",
        )
    return CheckResult(name="store", ok=True, detail=f"{store.display_url} (schema {head})")


def check_search(settings: Settings) -> CheckResult:
    with tracer.start_as_current_span("check.search"):
        if settings.search_backend == "embedded":
            return _check_embedded()
        return _check_elasticsearch(settings)


def _check_embedded() -> CheckResult:
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.OperationalError:
        return CheckResult(
            name="search",
            ok=False,
            detail="this SQLite has no FTS5",
            fix="use a Python built with SQLite FTS5, or the elasticsearch backend",
        )
    finally:
        connection.close()
    return CheckResult(
        name="search", ok=True, detail=f"embedded (SQLite {sqlite3.sqlite_version} FTS5)"
    )


def _check_elasticsearch(settings: Settings) -> CheckResult:
    url = str(settings.elasticsearch_url).rstrip("/")
    headers = {}
    if settings.elasticsearch_api_key is not None:
        headers["Authorization"] = f"ApiKey {settings.elasticsearch_api_key.get_secret_value()}"
    fix = f"start Elasticsearch 8 at {url} or correct CATALOGUE_ELASTICSEARCH_URL"
    try:
        with httpx.Client(timeout=SEARCH_TIMEOUT_S, headers=headers) as client:
            # Not `GET /`: the minimal distribution answers it with 405.
            health = client.get(f"{url}/_cluster/health").raise_for_status().json()
            nodes = (
                client.get(f"{url}/_nodes/_local", params={"filter_path": "nodes.*.version"})
                .raise_for_status()
                .json()
            )
    except httpx.HTTPStatusError as exc:
        return CheckResult(
            name="search",
            ok=False,
            fix=fix,
            detail=f"elasticsearch at {url} answered HTTP {exc.response.status_code}",
        )
    except (httpx.HTTPError, ValueError) as exc:
        return CheckResult(
            name="search",
            ok=False,
            fix=fix,
            detail=f"elasticsearch at {url} unreachable: {type(exc).__name__}",
        )
    found: dict[str, dict[str, str]] = nodes.get("nodes", {})
    version = next(iter(found.values()), {}).get("version", "?")
    if not str(version).startswith("8."):
        return CheckResult(
            name="search",
            ok=False,
            detail=f"elasticsearch {version} at {url}",
            fix="use Elasticsearch 8",
        )
    status = health.get("status", "?")
    return CheckResult(
        name="search",
        ok=status in {"green", "yellow"},
        detail=f"elasticsearch {version} at {url}, cluster {status}",
        fix=None if status in {"green", "yellow"} else "repair the cluster",
    )


def check_sources(settings: Settings, configs: Mapping[str, type[BaseModel]]) -> CheckResult:
    path = settings.sources_file
    if path is None:
        return CheckResult(
            name="sources",
            ok=True,
            detail="no sources file configured",
            fix="set CATALOGUE_SOURCES_FILE (or --sources) to harvest",
        )
    try:
        specs = load_sources(Path(path), configs)
    except CatalogueError as exc:
        return CheckResult(
            name="sources", ok=False, detail=str(exc), fix=f"correct {path} at the lines shown"
        )
    names = ", ".join(s.name for s in specs) or "none"
    return CheckResult(name="sources", ok=True, detail=f"{len(specs)} in {path}: {names}")
