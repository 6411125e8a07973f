"""The `bids` harvester through the runner into a real store: first run, incremental runs, a
partial run, retired series, and no participant label anywhere in the database."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from sqlmodel import col, select

from catalogue.models import (
    CodedValue,
    HarvestRun,
    ImagingStudy,
    RunStatus,
    Series,
    Source,
    Subject,
)
from catalogue.services.coding import CodingService
from catalogue.services.ingest import DeletionPolicy, IngestService
from catalogue.sources import SourceSpec
from catalogue.store import Store
from harvesters.bids.harvester import BidsHarvester
from harvesters.runner import Runner
from ontology import Ontology
from tests.harvesters.bids_datasets import LABELS, write_example

SECRET = SecretStr("a-bids-runner-secret-of-32-characters")
RECORDS = 1 + 3 + 5 + 21  # collection, subjects, studies, series


def _runner(store: Store, coding: CodingService | None = None) -> Runner:
    store.ensure_site("local", "Local")
    return Runner(
        IngestService(store, coding),
        "local",
        pseudonym_secret=SECRET,
        policy=DeletionPolicy(after_missed_runs=1, failsafe_ratio=0.5),
        kinds={"bids": BidsHarvester},
    )


def _spec(root: Path) -> SourceSpec:
    options = {"path": str(root), "diagnosis_columns": ["diagnosis"]}
    return SourceSpec(name="epilepsy", kind="bids", options=options)


def test_a_bids_dataset_through_the_runner(store: Store, tmp_path: Path) -> None:
    root = write_example(tmp_path / "ds")
    runner, spec = _runner(store), _spec(root)
    first = runner.run(spec)
    assert (first.status, first.added, first.failed) == (RunStatus.SUCCEEDED, RECORDS, 0)
    second = runner.run(spec)
    assert (second.status, second.added, second.updated, second.seen) == (
        RunStatus.SUCCEEDED, 0, 0, RECORDS,
    )  # fmt: skip
    with store.session() as session:
        ages = sorted(a for a in session.exec(select(ImagingStudy.age_years)) if a is not None)
        assert ages == [34.0, 36.5, 36.5, 90.0, 90.0]
        groups = sorted(g or "" for g in session.exec(select(Subject.group)))
        assert groups == ["healthy control", "patient", "patient"]
        t1 = session.exec(select(Series).where(col(Series.repetition_time_ms) == 2300.0)).all()
        assert len(t1) == 5 and {s.attributes["sequence_type"] for s in t1} == {"T1w"}


def test_bad_rows_make_a_partial_run_and_gone_images_are_retired(
    store: Store, tmp_path: Path
) -> None:
    root = write_example(tmp_path / "ds")
    runner, spec = _runner(store), _spec(root)
    runner.run(spec)
    with store.session() as session:
        bookmark = session.exec(select(Source.bookmark)).one()
    (root / "participants.tsv").write_text(
        "participant_id\tage\tsex\nsub-JDOE1958\t34\tM\nsub-ASMITH\tninety\tF\nsub-BJONES\t50\n"
    )
    (root / "sub-BJONES" / "pet" / "sub-BJONES_trc-FDG_pet.nii.gz").unlink()
    partial = runner.run(spec)
    assert (partial.status, partial.failed, partial.deleted) == (RunStatus.PARTIAL, 2, 0)
    assert sorted(e["native_id"] for e in partial.errors) == [
        "participants.tsv:row 3", "participants.tsv:row 4",
    ]  # fmt: skip
    with store.session() as session:
        assert session.exec(select(Source.bookmark)).one() == bookmark  # did not advance
    (root / "participants.tsv").write_text("participant_id\tage\tsex\nsub-BJONES\t50\tF\n")
    fixed = runner.run(spec)
    assert (fixed.status, fixed.failed, fixed.deleted) == (RunStatus.SUCCEEDED, 0, 1)
    with store.session() as session:
        live = session.exec(select(Series).where(col(Series.deleted_at).is_(None))).all()
        assert len(live) == 20


def test_no_participant_label_reaches_the_store(store: Store, tmp_path: Path) -> None:
    root = write_example(tmp_path / "ds")
    (root / "sub-BJONES" / "anat" / "sub-ASMITH_T1.nii.gz").write_bytes(b"misnamed")
    (root / "task-rest_bold.json").write_text("{broken")
    runner = _runner(store)
    run = runner.run(_spec(root))
    assert run.status == RunStatus.PARTIAL
    with store.session() as session:
        runs = session.exec(select(HarvestRun)).all()
        rows = [
            *session.exec(select(Subject)).all(),
            *session.exec(select(ImagingStudy)).all(),
            *session.exec(select(Series)).all(),
            *runs,
            *session.exec(select(Source)).all(),
        ]
        dumped = " ".join(r.model_dump_json() for r in rows).lower()
    for label in LABELS:
        assert label.lower() not in dumped
    assert "sub-" not in dumped and "ses-" not in dumped


def test_the_bids_suffix_is_the_series_sequence_type(
    store: Store, tmp_path: Path, ontology: Ontology
) -> None:
    root = write_example(tmp_path / "ds")
    _runner(store, CodingService(ontology)).run(_spec(root))
    with store.session() as session:
        rows = session.exec(
            select(CodedValue.original_value, CodedValue.method, CodedValue.code).where(
                CodedValue.field == "sequence_type"
            )
        ).all()
    found = {(value, str(method), code) for value, method, code in rows}
    assert found == {
        ("T1w", "exact-code", "T1w"),
        ("FLAIR", "exact-code", "FLAIR"),
        ("bold", "exact-code", "bold"),
        ("dwi", "exact-code", "dwi"),
        ("asl", "exact-code", "asl"),
        ("mask", "unmapped", None),
    }  # fmt: skip  (the PET image is not MR: no sequence type)
