"""The search service: who sees which hits, suppressed cohorts, cursors, clear errors, and the
fallback when the configured engine is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.catalogue_generator import Catalogue, generate, load
from catalogue.access import ANONYMOUS, Identity
from catalogue.errors import SearchUnavailableError, ValidationError
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService, backend_from_settings
from catalogue.settings import Settings
from catalogue.store import Store

ADMIN = Identity(subject="root", roles=frozenset({"admin"}))


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Catalogue, SearchService]]:
    root = tmp_path_factory.mktemp("service")
    catalogue = generate(subjects=150, sites=2, collections_per_site=4, seed=3)
    store = Store(f"sqlite:///{root / 'catalogue.db'}", "http://node.test")
    store.upgrade()
    load(store, catalogue)
    backend = EmbeddedBackend(root / "search")
    Indexer(store, backend).rebuild()
    yield catalogue, SearchService(store, backend, 5)
    store.dispose()


def _collections(catalogue: Catalogue, *visibilities: str) -> set[str]:
    return {str(c.id) for _, c in catalogue.collections() if c.visibility in visibilities}


def _walk(service: SearchService, identity: Identity, query: dict[str, object]) -> list[str]:
    found, cursor = [], None
    while True:
        result = service.search(identity, {**query, "cursor": cursor})
        found += [h.id for h in result.hits]
        cursor = result.cursor
        if cursor is None:
            return found


def test_hits_only_from_collections_with_record_access(
    node: tuple[Catalogue, SearchService],
) -> None:
    catalogue, service = node
    public = _collections(catalogue, "public")
    result = service.search(ANONYMOUS, {"size": 1000})
    assert result.hits and {h.collection for h in result.hits} <= public
    assert result.total == sum(
        len(c.subjects) for _, c in catalogue.collections() if str(c.id) in public
    )
    everything = service.search(ADMIN, {"size": 0})
    assert everything.total == sum(len(c.subjects) for _, c in catalogue.collections())
    listed = service.search(ANONYMOUS, {"kind": "collections", "size": 100})
    assert {h.id for h in listed.hits} == _collections(catalogue, "public", "aggregate")


def test_cursor_walks_every_hit_once(node: tuple[Catalogue, SearchService]) -> None:
    _, service = node
    query = {"kind": "series", "size": 37, "sort": [{"field": "year", "order": "desc"}]}
    walked = _walk(service, ADMIN, query)
    assert (
        len(walked)
        == len(set(walked))
        == service.search(ADMIN, {"kind": "series", "size": 0}).total
    )


def test_cohort_counts_aggregate_collections_with_suppression(
    node: tuple[Catalogue, SearchService],
) -> None:
    catalogue, service = node
    anonymous = service.cohort(ANONYMOUS, {"facets": [{"field": "sex"}]})
    shown = {c.id for s in anonymous.sites for c in s.collections}
    assert shown == _collections(catalogue, "public", "aggregate")
    sizes = {str(c.id): len(c.subjects) for _, c in catalogue.collections()}
    for site in anonymous.sites:
        for c in site.collections:
            if c.visibility == "aggregate" and 0 < sizes[c.id] < 5:
                assert c.subjects.suppressed and c.subjects.value is None
            if c.visibility == "public":
                assert c.subjects.value == sizes[c.id]
    admin = service.cohort(ADMIN, {"facets": [{"field": "sex"}]})
    assert admin.subjects.value == len(list(catalogue.subjects()))
    assert not any(b.count.suppressed for f in admin.facets for b in f.buckets)


def test_cohorts_are_made_of_subjects(node: tuple[Catalogue, SearchService]) -> None:
    with pytest.raises(ValidationError):
        node[1].cohort(ANONYMOUS, {"kind": "series"})


def test_search_facets_count_visible_hits(node: tuple[Catalogue, SearchService]) -> None:
    _, service = node
    result = service.search(
        ANONYMOUS, {"size": 0, "facets": [{"field": "sex"}, {"field": "modality"}]}
    )
    sex = result.facets[0]
    counted = sum(b.count.value or 0 for b in sex.buckets) + (sex.missing.value or 0)
    assert counted + (sex.other.value or 0 if sex.other else 0) == result.total


def test_engine_down_is_a_clear_error_or_the_fallback(
    node: tuple[Catalogue, SearchService],
) -> None:
    from catalogue.search.elasticsearch import ElasticsearchBackend

    _, service = node
    down = ElasticsearchBackend("http://127.0.0.1:9", prefix="nowhere", timeout=2)
    plain = SearchService(service.store, down, 5)
    with pytest.raises(SearchUnavailableError, match="retry"):
        plain.search(ANONYMOUS, {"text": "brain"})
    backed = SearchService(service.store, down, 5, fallback=service.backend)
    answer = backed.search(ANONYMOUS, {"text": "brain"})
    assert (
        answer.engine == "embedded"
        and answer.total == service.search(ANONYMOUS, {"text": "brain"}).total
    )
    down.close()


def test_backend_from_settings(tmp_path: Path) -> None:
    embedded = backend_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(embedded, EmbeddedBackend) and embedded.directory == tmp_path / "search"
    remote = backend_from_settings(Settings(data_dir=tmp_path, search_backend="elasticsearch"))
    assert remote.name == "elasticsearch"
    remote.close()
