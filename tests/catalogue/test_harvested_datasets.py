"""Datasets harvested from partner catalogues: upserts with provenance beside our own curated
datasets, deletions the source announces, and what the search dumper makes of them."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from catalogue.models import Dataset, DoiState, RunStatus
from catalogue.records import DatasetRecord, Deleted
from catalogue.search.documents import Dumper
from catalogue.services.ingest import DeletionPolicy, IngestService, RunHandle
from catalogue.store import Store

META = {
    "doi": "10.5072/not-a-real-doi",
    "titles": [{"title": "Brain MRI of 40 volunteers"}],
    "publisher": {"name": "A partner"},
}


def _record(native_id: str = "oai:partner:1", **changes: Any) -> DatasetRecord:
    values: dict[str, Any] = {
        "native_id": native_id,
        "title": "Brain MRI of 40 volunteers",
        "identifier": "10.5072/not-a-real-doi",
        "landing_page": "https://partner.example/datasets/1",
        "meta": META,
        "cursor": "2024-01-01T00:00:00Z",
    }
    return DatasetRecord(**{**values, **changes})


def _run(ingest: IngestService, items: list[Any]) -> tuple[RunHandle, RunStatus]:
    handle = ingest.start_run("partner", "oai-pmh", "local")
    refused = ingest.write(handle, items)
    run = ingest.finish(
        handle,
        status=RunStatus.SUCCEEDED,
        complete=False,
        seen={"dataset": {i.native_id for i in items if isinstance(i, DatasetRecord)}},
        cursor=items[-1].cursor,
        failures=refused,
        policy=DeletionPolicy(),
    )
    return handle, run.status


def _datasets(store: Store) -> list[Dataset]:
    with store.session() as session:
        return list(session.exec(select(Dataset).order_by(col(Dataset.slug))))


def test_partner_datasets_keep_provenance_beside_our_own(store: Store) -> None:
    store.ensure_site("local", "Local")
    with store.session() as session:
        session.add(Dataset(slug="ours", title="Our curated cohort"))
    ingest = IngestService(store)
    handle, status = _run(ingest, [_record(), _record("oai:partner:2", identifier=None)])
    assert status is RunStatus.SUCCEEDED
    partner = [d for d in _datasets(store) if d.source_id is not None]
    ours = [d for d in _datasets(store) if d.source_id is None]
    assert [d.slug for d in ours] == ["ours"]
    assert ours[0].content_hash is None and ours[0].native_id is None
    first = next(d for d in partner if d.native_id == "oai:partner:1")
    assert first.identifier == "10.5072/not-a-real-doi"  # kept as the partner gave it
    assert first.concept_doi is None  # never taken for one of ours
    assert first.landing_page == "https://partner.example/datasets/1"
    assert first.meta == META
    assert first.state is DoiState.FINDABLE
    assert first.first_seen_run_id == handle.run_id and first.content_hash
    assert first.slug.startswith("partner-") and first.iri


def test_rewrites_only_changes_and_deletes_what_the_source_deleted(store: Store) -> None:
    store.ensure_site("local", "Local")
    ingest = IngestService(store)
    _run(ingest, [_record()])
    again, _ = _run(ingest, [_record()])
    assert again.counts["unchanged"] == 1
    changed, _ = _run(ingest, [_record(title="Brain MRI of 41 volunteers")])
    assert changed.counts["updated"] == 1
    (row,) = _datasets(store)
    assert row.title == "Brain MRI of 41 volunteers"
    slug = row.slug
    gone, _ = _run(ingest, [Deleted(kind="dataset", native_id="oai:partner:1", cursor="2025")])
    assert gone.counts["deleted"] == 1
    (row,) = _datasets(store)
    assert row.deleted_at is not None
    with store.session() as session:
        dump = Dumper(session).datasets([row.id])
    assert dump.deletes == [("datasets", str(row.id))] and not dump.docs
    back, _ = _run(ingest, [_record()])
    (row,) = _datasets(store)
    assert row.deleted_at is None and row.slug == slug and back.counts["updated"] == 1
    with store.session() as session:
        dump = Dumper(session).datasets([row.id])
    assert [d.kind for d in dump.docs] == ["datasets"]


def test_a_deletion_of_an_unknown_record_changes_nothing(store: Store) -> None:
    store.ensure_site("local", "Local")
    handle, status = _run(IngestService(store), [Deleted(kind="dataset", native_id="never")])
    assert status is RunStatus.SUCCEEDED and handle.counts["deleted"] == 0
    assert _datasets(store) == []
