"""The change feed: commit order, one entry per record at its last change, deletions, export
rules per visibility, cursors that survive a new store object, and a concurrent writer on
PostgreSQL that cannot slip a change in behind a reader's cursor."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from catalogue.access import ANONYMOUS, Identity
from catalogue.errors import PermissionDeniedError, ValidationError
from catalogue.models import Collection, Series, Visibility, utcnow
from catalogue.services.changes import Change, ChangeFeed
from catalogue.services.ingest import IngestService
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.runner import Runner
from tests.harvesters.scripted import ScriptedHarvester, items

PEER = Identity(
    subject="hub", roles=frozenset({"client"}), scopes=frozenset({"records:read", "counts:read"})
)
COUNTS_ONLY = Identity(
    subject="stats", roles=frozenset({"client"}), scopes=frozenset({"counts:read"})
)


def _harvest(store: Store, path: Path, data: list[dict[str, Any]]) -> None:
    store.ensure_site("local", "Local")
    path.write_text(json.dumps(data))
    spec = SourceSpec(name="scripted", kind="scripted", options={"items_file": str(path)})
    runner = Runner(
        IngestService(store), "local", pseudonym_secret=None, kinds={"scripted": ScriptedHarvester}
    )
    runner.run(spec, full=True)


def _all(feed: ChangeFeed, identity: Identity = PEER, after: str | None = None) -> list[Change]:
    out: list[Change] = []
    while True:
        page = feed.changes(identity, after, first=4)
        out += page.changes
        after = page.end_cursor
        if not page.has_next_page:
            return out


def test_the_feed_lists_every_record_parents_first_with_provenance(
    store: Store, tmp_path: Path
) -> None:
    _harvest(store, tmp_path / "items.json", items(subjects=3, series_per_subject=2))
    changes = _all(ChangeFeed(store))
    kinds = [c.kind for c in changes]
    assert kinds.count("collection") == 1 and kinds.count("series") == 6
    assert kinds.index("collection") < kinds.index("subject") < kinds.index("series")
    assert len({c.iri for c in changes}) == len(changes)
    series = next(c for c in changes if c.kind == "series")
    assert series.op == "upsert" and series.provenance is not None
    assert series.provenance.site == "local" and series.provenance.source == "scripted"
    assert set(series.parents) == {"collection", "subject", "study"}
    assert series.record is not None and "id" not in series.record
    subject = next(c for c in changes if c.kind == "subject")
    assert {"field": "diagnosis", "original": "G35"} in subject.coded or subject.coded


def test_a_cursor_resumes_after_restart_and_sees_only_later_changes(
    store: Store, tmp_path: Path
) -> None:
    _harvest(store, tmp_path / "items.json", items(subjects=2))
    first = ChangeFeed(store).changes(PEER, None, first=1000)
    assert not first.has_next_page
    again = Store(store.url, store.base_iri)  # a restarted node
    try:
        assert ChangeFeed(again).changes(PEER, first.end_cursor).changes == []
        _harvest(store, tmp_path / "items.json", items(subjects=2, description="flair"))
        later = ChangeFeed(again).changes(PEER, first.end_cursor)
    finally:
        again.dispose()
    assert {c.kind for c in later.changes} == {"series"}
    assert all(c.record and c.record["series_description"] == "flair" for c in later.changes)
    # each record once, at its last change, even though it changed after the first read
    assert len(_all(ChangeFeed(store))) == len(first.changes)


def test_deleted_records_and_hidden_collections_are_announced_as_deletions(
    store: Store, tmp_path: Path
) -> None:
    _harvest(store, tmp_path / "items.json", items(subjects=2))
    feed = ChangeFeed(store)
    mark = feed.changes(PEER, None, first=1000).end_cursor
    with store.session() as session:
        series = session.exec(select(Series)).first()
        assert series is not None
        series.deleted_at = utcnow()
        gone = series.iri
    deleted = feed.changes(PEER, mark).changes
    assert [(c.op, c.iri) for c in deleted] == [("delete", gone)]
    with store.session() as session:
        collection = session.exec(select(Collection)).one()
        collection.visibility = Visibility.AGGREGATE
    after = feed.changes(PEER, mark).changes
    assert [(c.kind, c.op) for c in after] == [("collection", "delete")]
    assert _all(feed) == [after[0]]  # a hidden collection's records are not announced at all


def test_only_signed_in_peers_with_record_access_get_records(store: Store, tmp_path: Path) -> None:
    data = items(subjects=1)
    data[0]["visibility"] = "registered"
    _harvest(store, tmp_path / "items.json", data)
    with pytest.raises(PermissionDeniedError):
        ChangeFeed(store).changes(ANONYMOUS)
    assert {c.op for c in _all(ChangeFeed(store))} == {"upsert"}
    assert [(c.kind, c.op) for c in _all(ChangeFeed(store), COUNTS_ONLY)] == [
        ("collection", "delete")
    ]


@pytest.mark.parametrize("cursor", ["x", "-1", "1" * 30])
def test_a_bad_cursor_or_page_size_is_a_validation_error(store: Store, cursor: str) -> None:
    with pytest.raises(ValidationError):
        ChangeFeed(store).changes(PEER, cursor)
    with pytest.raises(ValidationError):
        ChangeFeed(store).changes(PEER, None, first=0)


def test_a_change_numbered_first_cannot_commit_after_a_later_one_is_read(
    store: Store, tmp_path: Path
) -> None:
    """Writer 1 takes a log position and holds its transaction open; writer 2 writes after it. A
    reader must not get writer 2's change (and move its cursor past) while writer 1's may still
    commit behind it: writer 2 waits for writer 1."""
    _harvest(store, tmp_path / "items.json", items(subjects=2, series_per_subject=1))
    feed = ChangeFeed(store)
    start = feed.changes(PEER, None, first=1000).end_cursor
    flushed, release, second_done = threading.Event(), threading.Event(), threading.Event()

    def rename(index: int, hold: bool) -> None:
        with store.session() as session:
            series = session.exec(select(Series).order_by(col(Series.native_id))).all()[index]
            series.series_description = f"writer {index}"
            session.flush()
            if hold:
                flushed.set()
                release.wait(10)
        second_done.set() if not hold else None

    first = threading.Thread(target=rename, args=(0, True))
    first.start()
    assert flushed.wait(10)
    second = threading.Thread(target=rename, args=(1, False))
    second.start()
    second_done.wait(1.0)  # with the log serialised, writer 2 is still waiting here
    early = feed.changes(PEER, start)
    release.set()
    first.join()
    second.join()
    late = feed.changes(PEER, early.end_cursor)
    descriptions = [
        c.record["series_description"] for c in early.changes + late.changes if c.record
    ]
    assert sorted(descriptions) == ["writer 0", "writer 1"]
