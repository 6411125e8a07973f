"""The indexer against real stores (SQLite and PostgreSQL) and the embedded backend: harvested
records reach the index through the outbox, changes and soft deletes follow, a collection change
reaches its subjects, an engine outage loses nothing, and a rebuild swaps without downtime."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from catalogue.errors import ConflictError, SearchUnavailableError
from catalogue.models import (
    CodedValue,
    Collection,
    OutboxEntry,
    Series,
    Subject,
    Visibility,
    utcnow,
)
from catalogue.search._lock import indexer_lock
from catalogue.search.backend import EVERYTHING, IndexWriter, SearchBackend, SearchRequest
from catalogue.search.documents import DocRef, Document, Dumper
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.query import validate_query
from catalogue.services.ingest import IngestService
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.runner import Runner
from tests.harvesters.scripted import ScriptedHarvester, items


def harvest(store: Store, path: Path, data: list[dict[str, Any]]) -> None:
    store.ensure_site("local", "Local")
    path.write_text(json.dumps(data))
    spec = SourceSpec(name="scripted", kind="scripted", options={"items_file": str(path)})
    runner = Runner(
        IngestService(store), "local", pseudonym_secret=None, kinds={"scripted": ScriptedHarvester}
    )
    runner.run(spec, full=True)


def ids(backend: SearchBackend, **query: Any) -> list[str]:
    q = validate_query({"size": 1000, **query})
    page = backend.search(
        SearchRequest(q.kind, q.text, q.filter, EVERYTHING, tuple(q.effective_sort()), q.size)
    )
    return [h.id for h in page.hits]


def pending(store: Store) -> int:
    with store.session() as session:
        return int(session.exec(select(func.count()).select_from(OutboxEntry)).one())


@pytest.fixture
def embedded(tmp_path: Path) -> EmbeddedBackend:
    return EmbeddedBackend(tmp_path / "search")


def test_harvested_records_reach_the_index(
    store: Store, embedded: SearchBackend, tmp_path: Path
) -> None:
    harvest(store, tmp_path / "items.json", items(subjects=3, series_per_subject=2))
    assert pending(store) > 0
    report = Indexer(store, embedded, batch_size=4).drain()
    assert report.batches > 1 and report.entries > 0
    assert pending(store) == 0
    assert len(ids(embedded)) == 3
    assert len(ids(embedded, kind="series", text="t1 mprage")) == 6
    assert len(ids(embedded, kind="collections", text="study a")) == 1
    status = Indexer(store, embedded).status()
    assert (status.pending, status.lag_seconds, status.documents["series"]) == (0, 0.0, 6)


def test_changes_and_soft_deletes_follow(
    store: Store, embedded: SearchBackend, tmp_path: Path
) -> None:
    indexer = Indexer(store, embedded)
    harvest(store, tmp_path / "items.json", items(subjects=2, description="t1_mprage"))
    indexer.drain()
    harvest(store, tmp_path / "items.json", items(subjects=2, description="ax flair"))
    indexer.drain()
    assert ids(embedded, kind="series", text="mprage") == []
    assert len(ids(embedded, kind="series", text="flair")) == 4
    with store.session() as session:
        gone = session.exec(select(Subject).where(Subject.native_id == "sub0")).one()
        gone.deleted_at = utcnow()
    indexer.drain()
    assert ids(embedded) == [str(s) for s in _subject_ids(store, "sub1")]
    assert len(ids(embedded, kind="series")) == 2
    subject = _subject_ids(store, "sub1")[0]
    hits = ids(embedded, filter={"op": "term", "field": "series_count", "value": 2})
    assert hits == [str(subject)]


def _subject_ids(store: Store, native_id: str) -> list[Any]:
    with store.session() as session:
        return list(session.exec(select(Subject.id).where(Subject.native_id == native_id)))


def test_a_collection_change_reaches_its_subjects(
    store: Store, embedded: SearchBackend, tmp_path: Path
) -> None:
    indexer = Indexer(store, embedded)
    harvest(store, tmp_path / "items.json", items(subjects=3))
    indexer.drain()
    with store.session() as session:
        session.exec(select(Collection)).one().visibility = Visibility.AGGREGATE
    indexer.drain()
    query = {"filter": {"op": "term", "field": "visibility", "value": "aggregate"}}
    assert len(ids(embedded, **query)) == 3
    assert len(ids(embedded, kind="series", **query)) == 6


def test_coded_values_carry_concepts_and_ancestors(store: Store, tmp_path: Path) -> None:
    harvest(store, tmp_path / "items.json", items(subjects=1, series_per_subject=1))
    brain, head = "http://snomed.info/id/12738006", "http://snomed.info/id/69536005"
    with store.session() as session:
        series = session.exec(select(Series)).one()
        session.add(
            CodedValue(
                entity_type="series",
                entity_id=series.id,
                field="body_part",
                original_value="BRAIN",
                concept_iri=brain,
                label="Brain structure",
                ancestors=[head],
            )
        )
    with store.session() as session:
        dump = Dumper(session).subjects([series.subject_id])
    body = next(d.body for d in dump.docs if d.kind == "series")
    assert (body["body_part"], body["body_part_concept"]) == (["BRAIN"], [brain])
    assert body["body_part_closure"] == sorted([brain, head])
    assert "structure" in body["text"].split()
    subject = next(d.body for d in dump.docs if d.kind == "subjects")
    assert subject["diagnosis"] == ["G35"] and subject["diagnosis_concept"] == []
    assert subject["studies"][0]["series"][0]["body_part_closure"] == body["body_part_closure"]


class Failing:
    """A backend whose engine is down for writes: searches and the rest pass through."""

    def __init__(self, inner: SearchBackend) -> None:
        self.inner, self.name = inner, inner.name

    def index(self, docs: Sequence[Document]) -> None:
        raise SearchUnavailableError("the engine is down")

    def delete(self, refs: Sequence[DocRef]) -> None:
        raise SearchUnavailableError("the engine is down")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_an_outage_loses_nothing(store: Store, embedded: SearchBackend, tmp_path: Path) -> None:
    harvest(store, tmp_path / "items.json", items(subjects=3))
    waiting = pending(store)
    with pytest.raises(SearchUnavailableError):
        Indexer(store, Failing(embedded)).drain()
    assert pending(store) == waiting
    status = Indexer(store, embedded).status()
    assert status.pending == waiting and status.lag_seconds > 0
    Indexer(store, embedded).drain()
    assert len(ids(embedded)) == 3 and pending(store) == 0


def test_rebuild_swaps_while_searches_go_on(
    store: Store, embedded: SearchBackend, tmp_path: Path
) -> None:
    harvest(store, tmp_path / "items.json", items(subjects=3))
    indexer = Indexer(store, embedded)
    indexer.drain()
    before = embedded.info().name
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(len(ids(embedded)))  # the old index keeps answering during the rebuild

    report = indexer.rebuild(progress)
    assert set(seen) == {3} and report.subjects == 3
    assert embedded.info().name != before and not Path(before).exists()
    assert len(ids(embedded)) == 3


def test_one_indexer_at_a_time(store: Store, embedded: SearchBackend, tmp_path: Path) -> None:
    harvest(store, tmp_path / "items.json", items(subjects=1))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with indexer_lock(store) as got:
            assert got
            held.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    held.wait(10)
    try:
        assert Indexer(store, embedded).drain().busy
        with pytest.raises(ConflictError):
            Indexer(store, embedded).rebuild(wait_s=0.3)
    finally:
        release.set()
        thread.join()
    assert Indexer(store, embedded).drain().entries > 0


def test_run_keeps_draining_until_stopped(
    store: Store, embedded: SearchBackend, tmp_path: Path
) -> None:
    stop = threading.Event()
    runner = threading.Thread(target=Indexer(store, embedded).run, args=(stop, 0.05))
    runner.start()
    try:
        harvest(store, tmp_path / "items.json", items(subjects=2))
        _eventually(lambda: pending(store) == 0 and len(ids(embedded)) == 2)
    finally:
        stop.set()
        runner.join(5)
    assert not runner.is_alive()


def test_an_index_of_another_version_is_rebuilt_by_the_running_indexer(
    store: Store, embedded: EmbeddedBackend, tmp_path: Path
) -> None:
    harvest(store, tmp_path / "items.json", items(subjects=2))
    Indexer(store, embedded).drain()
    assert not embedded.outdated()
    old = embedded.info().name
    embedded.close()
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = 'from-another-version' WHERE key = 'schema'")
    assert embedded.outdated()
    with pytest.raises(SearchUnavailableError, match="catalogue index rebuild"):
        ids(embedded)
    stop = threading.Event()
    runner = threading.Thread(target=Indexer(store, embedded).run, args=(stop, 0.05))
    runner.start()
    try:
        _eventually(lambda: not embedded.outdated())
    finally:
        stop.set()
        runner.join(10)
    assert len(ids(embedded)) == 2 and embedded.info().name != old


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        deadline.wait(0.05)
    raise AssertionError("condition not reached in time")


def test_writer_protocol(embedded: SearchBackend) -> None:
    writer: IndexWriter = embedded
    writer.delete([("subjects", "nothing-here")])
    assert embedded.info().documents["subjects"] == 0
