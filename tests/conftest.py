"""Shared fixtures: settings in a temporary data directory, stores on SQLite and PostgreSQL,
and the real servers `deploy/local/services` starts (skipped locally when absent, failed in CI)."""

from __future__ import annotations

import gc
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from api.app import create_app
from catalogue.settings import Settings
from catalogue.store import Store
from ontology import Ontology

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"


def need_service(variable: str, what: str) -> str:
    """The URL of a real server from `deploy/local/services env`, or skip (fail under CI=true)."""
    url = os.environ.get(variable)
    reason = f"{what} not available: {variable} is not set (run `deploy/local/services start`)"
    if url and _answers(variable, url):
        return url
    if url:
        reason = f"{what} at {url} does not answer (run `deploy/local/services start`)"
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def _answers(variable: str, url: str) -> bool:
    if "POSTGRES" in variable:
        engine = sa.create_engine(url)
        try:
            with engine.connect():
                return True
        except sa.exc.OperationalError:
            return False
        finally:
            engine.dispose()
    try:
        return httpx.get(url, timeout=3).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", base_url="http://node.test")  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return need_service("CATALOGUE_TEST_POSTGRES_URL", "PostgreSQL")


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        # Connections a test left in unreachable engines would otherwise be closed by a later
        # collection, warning inside whichever unrelated test runs then: collect them here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalogue.db'}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def empty_store(store_url: str) -> Iterator[Store]:
    """A store with no schema yet (for migration tests)."""
    store = Store(store_url, "http://node.test")
    yield store
    store.dispose()


@pytest.fixture
def store(empty_store: Store) -> Store:
    """A migrated store, on SQLite and on PostgreSQL."""
    empty_store.upgrade()
    return empty_store


@pytest.fixture(scope="session")
def ontology() -> Ontology:
    """The bundled vocabularies, loaded once (services take curator decisions from their store)."""
    return Ontology.load()


@pytest.fixture
async def client(
    settings: Settings, store: Store, ontology: Ontology
) -> AsyncIterator[httpx.AsyncClient]:
    """The node's API in-process over HTTP semantics (httpx ASGI transport)."""
    app = create_app(settings, store, ontology=ontology)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        yield http


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def elasticsearch_url() -> str:
    return need_service("CATALOGUE_TEST_ELASTICSEARCH_URL", "Elasticsearch")


@pytest.fixture(scope="session")
def orthanc_url() -> str:
    return need_service("CATALOGUE_TEST_ORTHANC_URL", "Orthanc")
