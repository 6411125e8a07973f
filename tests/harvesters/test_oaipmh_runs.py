"""OAI-PMH harvests through the runner into a real store: partner records become datasets, a
deleted header deletes one, a listing broken part-way keeps what it stored and its bookmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from catalogue.errors import RetriableHarvestError
from catalogue.models import Dataset, HarvestRun, RunStatus, Source
from catalogue.search.backend import EVERYTHING, SearchRequest
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.query import validate_query
from catalogue.services.ingest import IngestService
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.oaipmh.harvester import OaiPmhHarvester
from harvesters.runner import Runner
from tests.harvesters.oai_repository import (
    RESPONSE_DATE,
    OaiRepository,
    datacite_record,
    deleted_record,
)
from tests.harvesters.partner_server import Reply, serving


def _runner(store: Store) -> Runner:
    store.ensure_site("hub", "Hub")
    return Runner(
        IngestService(store), "hub", pseudonym_secret=None, kinds={"oai-pmh": OaiPmhHarvester}
    )


def _spec(url: str, **options: Any) -> SourceSpec:
    return SourceSpec(
        name="partner",
        kind="oai-pmh",
        options={"url": f"{url}/oai", "retry_wait_s": 0.01, "retries": 1, **options},
    )


def _live(store: Store) -> dict[str, Dataset]:
    with store.session() as session:
        rows = session.exec(select(Dataset).where(col(Dataset.deleted_at).is_(None)))
        return {d.native_id or "": d for d in rows}


def _bookmark(store: Store) -> Any:
    with store.session() as session:
        source = session.exec(select(Source).where(Source.name == "partner")).one()
        return (source.bookmark or {}).get("cursor")


def _repository() -> OaiRepository:
    return OaiRepository(
        pages={
            "oai_datacite": [
                [datacite_record(1, "2020-01-01T00:00:00Z"), datacite_record(2, "2020-01-02")],
                [datacite_record(3, "2020-01-03T00:00:00Z")],
            ]
        }
    )


def test_partner_records_become_datasets_and_deletions_delete(store: Store) -> None:
    runner, repository = _runner(store), _repository()
    with serving(repository) as server:
        first = runner.run(_spec(server.url))
        assert (first.status, first.added) == (RunStatus.SUCCEEDED, 3)
        assert _bookmark(store) == RESPONSE_DATE
        live = _live(store)
        assert set(live) == {f"doi:10.5072/example-{n}" for n in (1, 2, 3)}
        one = live["doi:10.5072/example-1"]
        assert one.identifier == "10.5072/example-1" and one.source_id is not None
        assert one.meta["doi"] == "10.5072/example-1"
        assert one.first_seen_run_id == first.id and one.content_hash

        # the partner deletes record 2 and changes record 3
        repository.pages["oai_datacite"] = [
            [deleted_record("doi:10.5072/example-2", "2024-06-01T00:00:00Z")],
            [datacite_record(3, "2024-06-02T00:00:00Z", title="Example dataset 3, revised")],
        ]
        repository.response_date = "2024-06-03T00:00:00Z"
        second = runner.run(_spec(server.url))
        asked = [p for _, p in server.requests if p.get("verb") == "ListRecords"]
    assert asked[-2]["from"] == RESPONSE_DATE  # incremental, from the bookmark
    assert (second.status, second.deleted, second.updated) == (RunStatus.SUCCEEDED, 1, 1)
    live = _live(store)
    assert set(live) == {"doi:10.5072/example-1", "doi:10.5072/example-3"}
    assert live["doi:10.5072/example-3"].title == "Example dataset 3, revised"
    assert _bookmark(store) == "2024-06-03T00:00:00Z"


def test_a_listing_broken_part_way_keeps_its_bookmark(store: Store) -> None:
    runner, repository = _runner(store), _repository()
    failing = {4 + i: Reply(status=500) for i in range(2)}  # page 2, and its one retry
    with serving(repository, failing) as server, pytest.raises(RetriableHarvestError, match="500"):
        runner.run(_spec(server.url))
    assert _bookmark(store) is None
    assert set(_live(store)) == {"doi:10.5072/example-1", "doi:10.5072/example-2"}  # page 1
    with store.session() as session:
        run = session.exec(select(HarvestRun)).one()
        assert run.status is RunStatus.FAILED and "HTTP 500" in run.errors[-1]["reason"]
    with serving(repository) as server:
        again = runner.run(_spec(server.url))
    assert again.status is RunStatus.SUCCEEDED and len(_live(store)) == 3
    assert _bookmark(store) == RESPONSE_DATE


def _found(backend: EmbeddedBackend, text: str) -> int:
    query = validate_query({"kind": "datasets", "text": text, "size": 100})
    request = SearchRequest(
        query.kind, query.text, query.filter, EVERYTHING, tuple(query.effective_sort()), 100
    )
    return len(backend.search(request).hits)


def test_partner_datasets_are_found_in_search_until_deleted(store: Store, tmp_path: Path) -> None:
    runner, repository = _runner(store), _repository()
    backend = EmbeddedBackend(tmp_path / "search")
    indexer = Indexer(store, backend)
    with serving(repository) as server:
        runner.run(_spec(server.url))
        indexer.drain()
        assert _found(backend, "example dataset") == 3
        repository.pages["oai_datacite"] = [
            [deleted_record("doi:10.5072/example-2", "2024-06-01T00:00:00Z")]
        ]
        repository.response_date = "2024-06-03T00:00:00Z"
        runner.run(_spec(server.url))
    indexer.drain()
    assert _found(backend, "example dataset") == 2
