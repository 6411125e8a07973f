"""Both search backends pass the search contract against a generated multi-site catalogue whose
true answers are computed in plain Python (`tests/search/truth.py`); their suppressed cohort
summaries are identical; hypothesis-generated queries agree with the truth."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.catalogue_generator import Catalogue, generate, load
from catalogue.access import ANONYMOUS, Identity
from catalogue.models import Dataset, DoiState
from catalogue.search._summary import Layout
from catalogue.search.backend import EVERYTHING, Scope, SearchBackend
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.query import validate_query
from catalogue.search.service import SearchService, summarise
from catalogue.search.suppression import Access, Policy
from catalogue.store import Store
from tests.contract.search import CASES, FACETS, check_aggregates, check_search, query
from tests.search import truth as reference
from tests.search.strategies import filters

DATASETS = [
    ("ms-3t", "Multiple sclerosis at 3 T", DoiState.FINDABLE),
    ("glioma-ct", "Glioma CT follow-up", DoiState.DRAFT),
    ("glioma-mri", "Glioma MRI, pre-operative", DoiState.FINDABLE),
]
UPDATED = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)


class World:
    def __init__(self, catalogue: Catalogue, store: Store, truth: reference.Truth) -> None:
        self.catalogue, self.store, self.truth = catalogue, store, truth
        self.backends: dict[str, SearchBackend] = {}

    def public_scope(self) -> Scope:
        ids = {str(c.id) for _, c in self.catalogue.collections() if c.visibility == "public"}
        return Scope(collections=frozenset(ids), dataset_states=frozenset({"findable"}))


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("search-world")
    catalogue = generate(subjects=400, sites=3, collections_per_site=4, seed=11)
    store = Store(f"sqlite:///{root / 'catalogue.db'}", "http://node.test")
    store.upgrade()
    load(store, catalogue)
    nodes = []
    with store.session() as session:
        for slug, title, state in DATASETS:
            d = Dataset(
                slug=slug, title=title, description=f"{title}.", state=state, updated_at=UPDATED
            )
            session.add(d)
            nodes.append(
                {
                    "id": str(d.id),
                    "state": state.value,
                    "slug": slug,
                    "dataset_updated": "2024-06-01T12:30:00.000Z",
                    "_words": reference.words(title, f"{title}.", slug),
                }
            )
    yield World(catalogue, store, reference.Truth.of(catalogue, nodes))
    store.dispose()


def _embedded(world: World, root: Path) -> SearchBackend:
    backend = EmbeddedBackend(root / "search")
    Indexer(world.store, backend).rebuild()
    return backend


@pytest.fixture(scope="session")
def embedded(world: World, tmp_path_factory: pytest.TempPathFactory) -> SearchBackend:
    return _embedded(world, tmp_path_factory.mktemp("embedded"))


@pytest.fixture(scope="session")
def elasticsearch(world: World, elasticsearch_url: str) -> Iterator[SearchBackend]:
    from catalogue.search.elasticsearch import ElasticsearchBackend

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    backend = ElasticsearchBackend(elasticsearch_url, prefix=prefix)
    try:
        Indexer(world.store, backend).rebuild()
        yield backend
    finally:
        found = backend.client.indices.get(index=f"{prefix}-*", allow_no_indices=True)
        if found:  # by name: a server may refuse wildcard deletes
            backend.client.indices.delete(index=list(found))
        backend.close()


@pytest.fixture(params=["embedded", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def backend(request: pytest.FixtureRequest) -> SearchBackend:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", sorted(CASES))
def test_hits_totals_and_order(backend: SearchBackend, world: World, case: str) -> None:
    check_search(backend, world.truth, query(case), EVERYTHING)


@pytest.mark.parametrize(
    "case", ["everything", "issue cohort", "sort two keys", "collections text", "datasets"]
)
def test_scope_limits_hits(backend: SearchBackend, world: World, case: str) -> None:
    check_search(backend, world.truth, query(case, size=50), world.public_scope())


@pytest.mark.parametrize("case", sorted(CASES))
def test_per_collection_counts_and_facets(backend: SearchBackend, world: World, case: str) -> None:
    check_aggregates(backend, world.truth, query(case), EVERYTHING)


def test_deep_paging(backend: SearchBackend, world: World) -> None:
    check_search(backend, world.truth, validate_query({"kind": "studies", "size": 4}), EVERYTHING)


def test_service_walks_with_cursors(backend: SearchBackend, world: World) -> None:
    """Through the service: opaque cursors, the first page's total carried along."""
    service, admin = SearchService(world.store, backend, 5), Identity("a", frozenset({"admin"}))
    data = {"kind": "series", "size": 150, **CASES["series with subject fields"]}
    expected = reference.ordered_ids(
        reference.select(world.truth, validate_query(data)), validate_query(data)
    )
    seen, cursor, totals = [], None, set()
    while True:
        result = service.search(admin, {**data, "cursor": cursor})
        seen += [h.id for h in result.hits]
        totals.add(result.total)
        if (cursor := result.cursor) is None:
            break
    assert seen == expected and totals == {len(expected)}


@pytest.mark.elasticsearch
def test_paging_ignores_the_result_window(elasticsearch: Any, world: World) -> None:
    """Pages are positions (`search_after`), not offsets: a client can walk past any
    `max_result_window` (shrunk here to 20 so the catalogue's 2,000+ series exceed it 100-fold)."""
    index = elasticsearch.alias("series")
    elasticsearch.client.indices.put_settings(index=index, settings={"max_result_window": 20})
    try:
        q = validate_query({"kind": "series", "size": 19, "sort": [{"field": "year"}]})
        check_search(elasticsearch, world.truth, q, EVERYTHING)
    finally:
        elasticsearch.client.indices.put_settings(index=index, settings={"max_result_window": None})


@pytest.mark.elasticsearch
def test_an_index_of_another_version_is_outdated(
    elasticsearch: Any, elasticsearch_url: str
) -> None:
    from catalogue.search._es_query import SCHEMA_VERSION
    from catalogue.search.elasticsearch import ElasticsearchBackend

    index = elasticsearch.alias("studies")
    assert not elasticsearch.outdated()
    nothing = ElasticsearchBackend(elasticsearch_url, prefix=f"none-{uuid.uuid4().hex}")
    assert not nothing.outdated()  # no index yet: the first write creates this version's
    elasticsearch.client.indices.put_mapping(index=index, meta={"schema": "from-another-version"})
    try:
        assert elasticsearch.outdated()
    finally:
        elasticsearch.client.indices.put_mapping(index=index, meta={"schema": SCHEMA_VERSION})
    assert not elasticsearch.outdated()


@pytest.mark.parametrize("admin", [False, True])
def test_cohort_summary_matches_the_truth(
    backend: SearchBackend, world: World, admin: bool
) -> None:
    """The service's suppressed answer equals suppression applied to the true counts, so both
    backends give identical cohorts to every caller."""
    identity = Identity(subject="admin", roles=frozenset({"admin"})) if admin else ANONYMOUS
    data = {"filter": CASES["issue cohort"]["filter"], "facets": FACETS["subjects"]}
    service = SearchService(world.store, backend, 5)
    answer = service.cohort(identity, data)
    colls = [c for c in service.collections(identity) if c.access is not Access.NONE]
    q = validate_query(data)
    raw = reference.aggregate(
        world.truth, q, True, ("study_count", "series_count"), {c.id for c in colls}
    )
    expected = summarise(raw, Layout.of(colls), q.facets, Policy(5), backend.name)
    assert answer == expected
    assert answer.subjects.value is not None or answer.subjects.suppressed


@st.composite
def _queries(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["subjects", "studies", "series"]))
    text = draw(
        st.none() | st.sampled_from(["brain", "flair", "siemens 3", "t1 post", "ärger", "x*y"])
    )
    return {
        "kind": kind,
        "text": text,
        "filter": draw(st.none() | filters(kind, depth=2)),
        "size": 25,
    }


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_queries())
def test_generated_queries_match_the_truth(
    backend: SearchBackend, world: World, data: dict[str, Any]
) -> None:
    q = validate_query(data)
    check_search(backend, world.truth, q, EVERYTHING)
