"""An external client (the `gql` library) over real HTTP to a node served by `catalogue serve`
(uvicorn): it pages through a search, reads subject → studies → series, and counts a cohort, and
every answer matches the store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from gql import Client, GraphQLRequest, gql
from gql.transport.httpx import HTTPXTransport

from bench.catalogue_generator import Catalogue, generate, load
from catalogue.access import ANONYMOUS
from catalogue.models import Collection, Subject, Visibility
from catalogue.search import Indexer, SearchService, backend_from_settings
from catalogue.settings import Settings
from catalogue.store import Store

CATALOGUE = Path(sys.executable).with_name("catalogue")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings, Catalogue]]:
    data_dir = tmp_path_factory.mktemp("node") / "var"
    settings = Settings(data_dir=data_dir, base_url="http://node.test")  # type: ignore[arg-type]
    store = Store(settings.store_url, settings.base_iri)
    store.upgrade()
    catalogue = generate(subjects=120, sites=3, collections_per_site=3, seed=5)
    load(store, catalogue)
    backend = backend_from_settings(settings)
    Indexer(store, backend).rebuild()
    backend.close()
    store.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")}
    log = (data_dir.parent / "server.log").open("wb")
    server = subprocess.Popen(
        [str(CATALOGUE), "--data-dir", str(data_dir), "serve", "--port", str(port)],
        env={**env, "CATALOGUE_BASE_URL": "http://node.test"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, server, Path(log.name))
        yield f"{url}/graphql", settings, catalogue
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240  # start-up loads the ontology; slow on a busy machine
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(log.read_text(errors="replace")[-2000:])
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the node did not start within 240 s")


@pytest.fixture(scope="module")
def client(served: tuple[str, Settings, Catalogue]) -> Iterator[Client]:
    transport = HTTPXTransport(url=served[0], timeout=30)
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        yield session  # type: ignore[misc]


SEARCH = gql(
    """query Page($after: String) {
      search(query: {kind: SUBJECTS, filter: {hasSeries: {term: {field: "modality", value: "MR"}}}},
             first: 25, after: $after) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { node { ... on Subject { id } } } } }"""
)
NESTED = gql(
    """query Subject($id: ID!) { subject(id: $id) { id
      studies(first: 100) { totalCount edges { node { id
        series(first: 100) { totalCount edges { node { id modality } } } } } } } }"""
)
COHORT = gql(
    """query { cohort(query: {filter: {hasSeries: {term: {field: "modality", value: "CT"}}}}) {
      subjects { value suppressed } studies { value } series { value }
      sites { slug subjects { value suppressed display } } } }"""
)


def _public_subjects(settings: Settings) -> set[str]:
    store = Store(settings.store_url, settings.base_iri)
    query = (
        sa.select(Subject.id)
        .join(Collection, Collection.id == Subject.collection_id)  # type: ignore[arg-type]
        .where(Collection.visibility == Visibility.PUBLIC)
    )
    with store.engine.connect() as conn:
        found = {str(i) for (i,) in conn.execute(query)}
    store.dispose()
    return found


def test_pages_through_a_search(client: Any, served: tuple[str, Settings, Catalogue]) -> None:
    _, settings, catalogue = served
    seen: list[str] = []
    after = None
    while True:
        page = client.execute(GraphQLRequest(SEARCH, variable_values={"after": after}))["search"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    public = _public_subjects(settings)
    expected = {
        str(s.id)
        for _, c, s in catalogue.subjects()
        if c.visibility == "public"
        and any(se.modality == "MR" for st in s.studies for se in st.series)
    }
    assert len(seen) == len(set(seen)) == page["totalCount"] > 25
    assert set(seen) == expected and expected <= public


def test_reads_subject_studies_series(client: Any, served: tuple[str, Settings, Catalogue]) -> None:
    _, _, catalogue = served
    subjects = [s for _, c, s in catalogue.subjects() if c.visibility == "public"][:5]
    for subject in subjects:
        got = client.execute(GraphQLRequest(NESTED, variable_values={"id": str(subject.id)}))[
            "subject"
        ]
        studies = {
            e["node"]["id"]: sorted(
                (s["node"]["id"], s["node"]["modality"]) for s in e["node"]["series"]["edges"]
            )
            for e in got["studies"]["edges"]
        }
        assert studies == {
            str(st.id): sorted((str(se.id), se.modality) for se in st.series)
            for st in subject.studies
        }


def test_cohort_counts(client: Any, served: tuple[str, Settings, Catalogue]) -> None:
    _, settings, _ = served
    got = client.execute(COHORT)["cohort"]
    store = Store(settings.store_url, settings.base_iri)
    backend = backend_from_settings(settings)
    direct = SearchService(store, backend, settings.suppression_threshold).cohort(
        ANONYMOUS,
        {
            "filter": {
                "op": "has_series",
                "where": {"op": "term", "field": "modality", "value": "CT"},
            }
        },
    )
    backend.close()
    store.dispose()
    assert got["subjects"] == {
        "value": direct.subjects.value,
        "suppressed": direct.subjects.suppressed,
    }
    assert got["series"]["value"] == direct.series.value
    assert [s["slug"] for s in got["sites"]] == [s.slug for s in direct.sites]
    assert [s["subjects"]["value"] for s in got["sites"]] == [
        s.subjects.value for s in direct.sites
    ]
