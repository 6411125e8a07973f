"""The runner and the ingest service against a real store: upserts, provenance, bookmarks,
failures, deletions with their fail-safe, and convergence after a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from catalogue.errors import FatalHarvestError
from catalogue.models import (
    CodedValue,
    Collection,
    HarvestRun,
    OutboxEntry,
    RunStatus,
    Series,
    Source,
    Subject,
)
from catalogue.services.ingest import DeletionPolicy, IngestService
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.runner import Runner
from tests.harvesters.scripted import ScriptedHarvester, items

KINDS = {"scripted": ScriptedHarvester}


def _runner(store: Store, **policy: Any) -> Runner:
    store.ensure_site("local", "Local")
    return Runner(
        IngestService(store),
        "local",
        pseudonym_secret=None,
        policy=DeletionPolicy(**policy),
        kinds=KINDS,
    )


def _spec(path: Path, data: list[dict[str, Any]], **options: Any) -> SourceSpec:
    path.write_text(json.dumps(data))
    return SourceSpec(
        name="scripted", kind="scripted", options={"items_file": str(path), **options}
    )


def _snapshot(store: Store) -> dict[str, Any]:
    """What a user can observe of the harvested records (ids aside)."""
    with store.session() as session:
        series = session.exec(select(Series).order_by(col(Series.native_id))).all()
        subjects = session.exec(select(Subject).order_by(col(Subject.native_id))).all()
        coded = session.exec(select(CodedValue.field, CodedValue.original_value)).all()
        return {
            "series": [(s.native_id, s.series_description, s.deleted_at is None) for s in series],
            "subjects": [(s.native_id, s.sex) for s in subjects],
            "coded": sorted(coded),
        }


def _outbox(store: Store) -> int:
    with store.session() as session:
        return len(session.exec(select(OutboxEntry)).all())


def test_first_run_adds_and_second_changes_nothing(store: Store, tmp_path: Path) -> None:
    runner, spec = _runner(store), _spec(tmp_path / "items.json", items())
    first = runner.run(spec)
    assert (first.status, first.added, first.updated, first.unchanged) == (
        RunStatus.SUCCEEDED,
        1 + 3 + 3 + 6,
        0,
        0,
    )
    assert first.complete
    queued = _outbox(store)
    second = runner.run(spec, full=True)
    assert (second.added, second.updated, second.unchanged, second.seen) == (0, 0, 13, 13)
    assert _outbox(store) == queued  # unchanged records are not rewritten
    with store.session() as session:
        series = session.exec(select(Series)).first()
        assert series is not None
        assert series.first_seen_run_id == first.id
        assert series.content_hash
        assert series.iri and series.iri.startswith("http://node.test/id/series/")
    assert ("species", "Homo sapiens") in _snapshot(store)["coded"]


def test_changed_records_are_updated(store: Store, tmp_path: Path) -> None:
    runner = _runner(store)
    runner.run(_spec(tmp_path / "a.json", items()))
    run = runner.run(_spec(tmp_path / "a.json", items(description="t2_flair")), full=True)
    assert (run.updated, run.unchanged) == (6, 7)
    assert {d for _, d, _ in _snapshot(store)["series"]} == {"t2_flair"}


def test_incremental_runs_resume_from_the_bookmark(store: Store, tmp_path: Path) -> None:
    runner, path = _runner(store), tmp_path / "items.json"
    runner.run(_spec(path, items(subjects=2)))
    more = items(subjects=3)  # the same first items, then one more subject
    run = runner.run(_spec(path, more))
    assert run.cursor_from == {"cursor": f"{len(items(subjects=2)) - 1:06d}"}
    assert (run.added, run.seen) == (1 + 1 + 2, 4)
    assert not run.complete  # an incremental walk cannot tell what is gone


def test_a_bad_record_is_reported_and_holds_the_bookmark(store: Store, tmp_path: Path) -> None:
    runner, path = _runner(store), tmp_path / "items.json"
    data = items()
    bad = runner.run(_spec(path, data, bad_at=3))
    assert bad.status is RunStatus.PARTIAL
    assert bad.errors == [{"native_id": data[3]["native_id"], "reason": "unreadable header"}]
    assert bad.failed == 1
    assert bad.added == 12
    with store.session() as session:
        assert session.exec(select(Source)).one().bookmark is None
    again = runner.run(_spec(path, data))
    assert again.cursor_from == {"cursor": None}  # resumes from where the last clean run ended
    assert (again.status, again.added) == (RunStatus.SUCCEEDED, 1)


def test_a_record_whose_parent_is_missing_is_refused(store: Store, tmp_path: Path) -> None:
    data = [
        *items(subjects=1),
        {
            "kind": "series",
            "native_id": "orphan",
            "collection": "c1",
            "subject": "nobody",
            "study": "st0",
        },
    ]
    run = _runner(store).run(_spec(tmp_path / "i.json", data))
    assert run.status is RunStatus.PARTIAL
    assert run.errors == [{"native_id": "orphan", "reason": "its subject was not harvested"}]


def test_a_fatal_error_fails_the_run_and_keeps_what_was_written(
    store: Store, tmp_path: Path
) -> None:
    runner, path = _runner(store), tmp_path / "items.json"
    with pytest.raises(FatalHarvestError, match="the source went away"):
        runner.run(_spec(path, items(), fatal_at=5))
    with store.session() as session:
        run = session.exec(select(HarvestRun)).one()
        assert run.status is RunStatus.FAILED
        assert run.errors[-1]["reason"] == "the source went away"
        assert session.exec(select(Source)).one().bookmark is None
    assert runner.run(_spec(path, items())).status is RunStatus.SUCCEEDED


def test_a_crashing_harvester_leaks_no_message(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(FatalHarvestError, match="crashed: RuntimeError") as caught:
        _runner(store).run(_spec(tmp_path / "i.json", items(), crash_at=2))
    assert "PATIENT" not in str(caught.value)
    with store.session() as session:
        assert "PATIENT" not in json.dumps(session.exec(select(HarvestRun)).one().errors)


def test_records_gone_from_complete_runs_are_deleted_after_the_threshold(
    store: Store, tmp_path: Path
) -> None:
    runner, path = _runner(store, after_missed_runs=2), tmp_path / "items.json"
    runner.run(_spec(path, items(subjects=3)))
    fewer = items(subjects=3)[:-1]  # the last series is gone
    assert runner.run(_spec(path, fewer), full=True).deleted == 0  # missed once: kept
    assert all(alive for *_, alive in _snapshot(store)["series"])
    assert runner.run(_spec(path, fewer), full=True).deleted == 1
    assert [n for n, _, alive in _snapshot(store)["series"] if not alive] == ["se2.1"]
    back = runner.run(_spec(path, items(subjects=3)), full=True)  # it came back
    assert back.updated == 1
    assert all(alive for *_, alive in _snapshot(store)["series"])


def test_a_run_that_saw_far_fewer_records_deletes_nothing(store: Store, tmp_path: Path) -> None:
    runner, path = _runner(store, after_missed_runs=1), tmp_path / "items.json"
    runner.run(_spec(path, items(subjects=10)))
    run = runner.run(_spec(path, items(subjects=2)), full=True)
    assert run.deleted == 0
    assert "deletions skipped" in run.errors[-1]["reason"]
    assert all(alive for *_, alive in _snapshot(store)["series"])


def test_interrupted_runs_are_closed_when_the_next_one_starts(store: Store, tmp_path: Path) -> None:
    ingest = IngestService(store)
    store.ensure_site("local", "Local")
    ingest.start_run("scripted", "scripted", "local")  # never finished: the process died
    _runner(store).run(_spec(tmp_path / "i.json", items()))
    with store.session() as session:
        statuses = session.exec(
            select(HarvestRun.status).order_by(col(HarvestRun.started_at))
        ).all()
    assert statuses == [RunStatus.FAILED, RunStatus.SUCCEEDED]


KILLED = """
import sys
from catalogue.services.ingest import IngestService
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.runner import Runner
from tests.harvesters.scripted import ScriptedHarvester
store = Store(sys.argv[1], "http://node.test")
runner = Runner(IngestService(store), "local", pseudonym_secret=None,
                kinds={"scripted": ScriptedHarvester})
runner.run(SourceSpec(name="scripted", kind="scripted",
                      options={"items_file": sys.argv[2], "sleep_s": 0.01}))
"""


@pytest.mark.parametrize("kill_after_s", [0.9, 1.6])
def test_kill_9_then_rerun_equals_an_uninterrupted_run(
    store: Store, tmp_path: Path, kill_after_s: float
) -> None:
    data = items(subjects=40, series_per_subject=3)
    reference = Store(f"sqlite:///{tmp_path / 'reference.db'}", "http://node.test")
    reference.upgrade()
    _runner(reference).run(_spec(tmp_path / "items.json", data))

    store.ensure_site("local", "Local")
    process = subprocess.Popen(  # the runner in its own process, killed without warning
        [sys.executable, "-c", KILLED, store.url, str(tmp_path / "items.json")],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "PYTHONPATH": "."},
    )
    time.sleep(kill_after_s)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it was killed"
    partial = _snapshot(store)
    assert len(partial["series"]) < len(_snapshot(reference)["series"])

    _runner(store).run(_spec(tmp_path / "items.json", data))
    assert _snapshot(store) == _snapshot(reference)
    with store.session() as session:
        assert len(session.exec(select(Collection)).all()) == 1
    reference.dispose()
