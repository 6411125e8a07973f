"""The dicom-folder harvester over real files: pydicom's bundled test files (and its DICOMDIR
tree) copied into nested folders named like real exports, generated MR series, and broken files.

Incremental runs are checked against the one thing that matters: applying them to the records of
the last run (as the runner does) gives exactly what a fresh full harvest gives.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError
from pydicom.data import get_testdata_file

from catalogue.errors import FatalHarvestError
from catalogue.records import Checkpoint, Item, Record, Seen, SeriesRecord
from harvesters.base import HarvestContext, RecordFailure
from harvesters.dicom._folder_index import file_id, id_key
from harvesters.dicom._folder_read import read_header
from harvesters.dicom.deid import Deidentifier
from harvesters.dicom.folder import DicomFolderConfig, DicomFolderHarvester
from tests.contract.harvesters import check_contract
from tests.harvesters.phi_corpus import write_phi_corpus

SECRET = "folder-tests-secret-0123456789"
MR = get_testdata_file("MR_small.dcm")
DICOMDIR_TREE = Path(get_testdata_file("DICOMDIR")).parent
BUNDLED = (  # readable, with PatientID: one series each, except MR_small* and JPEG2000 (shared UID)
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_RLE.dcm",
    "MR_small_implicit.dcm",
    "JPEG2000.dcm",
    "liver_1frame.dcm",
    "rtplan.dcm",
    "rtdose.dcm",
)
PATIENT_FOLDER = "DOE^JANE_7394512"  # exports name folders after patients
BROKEN = {
    "broken/notes.txt": "not a DICOM file",
    "broken/empty.dcm": "not a DICOM file",
    "broken/truncated.dcm": "truncated",
    "broken/garbage.dcm": "",  # any reason will do, as long as it is reported
    "broken/rtplan_truncated.dcm": "truncated",
}

# --- building the export -----------------------------------------------------------------------


def uid(*parts: int) -> str:
    return "1.2.826.0.1.3680043.8.498.77." + ".".join(str(p) for p in parts)


def write_series(
    folder: Path,
    count: int,
    *,
    series: int,
    study: int = 1,
    patient: str = "DOE^JANE",
    description: str = "AXIAL T1 AAAA",
    echo_times: tuple[float, ...] = (15.0,),
    start: int = 0,
    sop_class: str | None = None,
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ds = pydicom.dcmread(MR)
    ds.PatientName, ds.PatientID = patient, "PID7394512"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid(study), uid(study, series)
    ds.SeriesDescription = description
    if sop_class is not None:
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    paths = []
    for i in range(start, start + count):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid(study, series, i + 1)
        ds.InstanceNumber = i + 1
        ds.EchoTime = echo_times[i % len(echo_times)]
        paths.append(folder / f"IM{i:04d}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    return paths


def build_export(root: Path) -> Path:
    patient = root / PATIENT_FOLDER
    write_series(patient / "brain", 5, series=1)
    write_series(patient / "brain2", 2, series=2, description="SAG T2")
    write_series(patient / "spine", 3, series=3, study=2, description="AXIAL T2 AAAA")
    write_series(root / "scattered" / "x", 2, series=4, study=3, patient="ROE^RICHARD")
    write_series(root / "scattered" / "y", 2, series=4, study=3, patient="ROE^RICHARD", start=2)
    for name in BUNDLED:
        (root / "bundled").mkdir(exist_ok=True)
        shutil.copy(get_testdata_file(name), root / "bundled" / name)
    media = root / "media"
    shutil.copytree(DICOMDIR_TREE, media, ignore=shutil.ignore_patterns("README*", "TINY_ALPHA"))
    _write_broken(root / "broken")
    (root / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: excluded by default
    return root


def _write_broken(folder: Path) -> None:
    folder.mkdir()
    data = Path(MR).read_bytes()
    (folder / "notes.txt").write_text("scan notes for DOE^JANE\n")
    (folder / "empty.dcm").write_bytes(b"")
    (folder / "truncated.dcm").write_bytes(data[:300])
    (folder / "garbage.dcm").write_bytes(data[:132] + bytes(range(7, 250)) * 4)
    shutil.copy(get_testdata_file("rtplan_truncated.dcm"), folder / "rtplan_truncated.dcm")


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return build_export(tmp_path / "export")


# --- running it --------------------------------------------------------------------------------


@dataclass
class Run:
    items: list[Item]
    failures: list[RecordFailure]

    @property
    def records(self) -> list[Record]:
        return [i for i in self.items if not isinstance(i, Seen | Checkpoint)]

    @property
    def seen(self) -> set[tuple[str, str]]:
        return {(i.kind, i.native_id) for i in self.items if isinstance(i, Seen)}

    @property
    def series(self) -> dict[str, SeriesRecord]:
        return {r.native_id: r for r in self.records if isinstance(r, SeriesRecord)}

    @property
    def cursor(self) -> Any:
        last = self.items[-1]
        assert isinstance(last, Checkpoint)
        return last.cursor


def make(root: Path, secret: str = SECRET, **options: Any) -> DicomFolderHarvester:
    config = DicomFolderConfig.model_validate(
        {"path": root, "collection": "Neuro export", "workers": 1, **options}
    )
    context = HarvestContext(source="export", site="test", pseudonym_secret=SecretStr(secret))
    return DicomFolderHarvester(config, context)


def harvest(root: Path, since: Any = None, **options: Any) -> Run:
    harvester = make(root, **options)
    items = list(harvester.iter_records(since))
    return Run(items, harvester.report.failures)


State = dict[tuple[str, str], Record]


def apply(state: State, run: Run) -> State:
    """What the runner keeps after `run`: its records, the records it saw, nothing else."""
    kept = {key: state[key] for key in run.seen}
    kept.update(((r.kind, r.native_id), r) for r in run.records)
    return kept


def full(run: Run) -> State:
    return apply({}, run)


def assert_converges(
    root: Path, before: Run, state: State | None = None, **options: Any
) -> tuple[Run, State]:
    """An incremental run after `before` (which left `state`) leaves the runner where a fresh
    full harvest would."""
    again = harvest(root, before.cursor, **options)
    after = apply(full(before) if state is None else state, again)
    assert after == full(harvest(root, **options))
    return again, after


def pseudonym(kind: str, value: str) -> str:
    return Deidentifier(SECRET.encode()).pseudonym(kind, value)


def expected_counts(root: Path) -> dict[str, int]:
    """Instances per series, by pydicom alone, for every file that is not broken."""
    counts: dict[str, int] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel in BROKEN or path.name.startswith("."):
            continue
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if "SeriesInstanceUID" in ds:  # DICOMDIRs have none
            key = pseudonym("series", ds.SeriesInstanceUID)
            counts[key] = counts.get(key, 0) + 1
    return counts


def rewrite_keeping_stat(path: Path, old: bytes, new: bytes) -> None:
    """Change a file's content without changing its size or mtime."""
    info = path.stat()
    data = path.read_bytes()
    assert len(old) == len(new) and old in data
    path.write_bytes(data.replace(old, new))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def touch(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


# --- a first harvest ---------------------------------------------------------------------------


def test_every_readable_series_is_harvested_with_its_instance_count(export: Path) -> None:
    run = harvest(export)
    counts = {key: r.instance_count for key, r in run.series.items()}
    assert counts == expected_counts(export)
    assert counts[pseudonym("series", uid(3, 4))] == 4  # scattered over two folders
    assert len(counts) >= 15  # generated, bundled and the DICOMDIR tree's series
    kinds = [r.kind for r in run.records]
    assert kinds[0] == "collection" and kinds.count("collection") == 1


def test_series_aggregate_their_instances(export: Path) -> None:
    write_series(export / "multi-echo", 6, series=9, echo_times=(10.0, 20.0, 30.0))
    enhanced = "1.2.840.10008.5.1.4.1.1.4.1"
    write_series(export / "multi-echo", 1, series=9, start=6, sop_class=enhanced)
    run = harvest(export)
    series = run.series[pseudonym("series", uid(1, 9))]
    assert series.instance_count == 7
    assert series.echo_time_ms == 10.0
    assert series.attributes["varying"]["echo_time_ms"] == [10.0, 15.0, 20.0, 30.0]
    assert series.sop_class_uids == ("1.2.840.10008.5.1.4.1.1.4", enhanced)
    seg = pydicom.dcmread(get_testdata_file("liver_1frame.dcm")).SeriesInstanceUID
    assert run.series[pseudonym("series", seg)].annotations


def test_broken_files_are_reported_and_the_run_goes_on(export: Path) -> None:
    run = harvest(export)
    key = id_key(SECRET.encode())
    ids = {f"file:{file_id(key, rel)}": reason for rel, reason in BROKEN.items()}
    assert {f.native_id for f in run.failures} == set(ids)  # DICOMDIRs are not broken
    for failure in run.failures:
        assert ids[failure.native_id] in failure.reason
    located = make(export).locate(f.native_id for f in run.failures)
    assert sorted(located.values()) == sorted(BROKEN)
    assert run.series, "the good files are harvested all the same"


def test_no_identifier_leaves_the_harvester(export: Path) -> None:
    run = harvest(export, access_url_template="https://viewer.example/{study}/{series}")
    raw = {PATIENT_FOLDER, "7394512", "DOE", "JANE", "RICHARD"}
    for path in export.rglob("*"):
        rel = path.relative_to(export).as_posix()
        if path.is_file() and rel not in BROKEN and not path.name.startswith("."):
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            for keyword in ("PatientName", "PatientID", "StudyInstanceUID", "SeriesInstanceUID"):
                if len(value := str(ds.get(keyword, ""))) >= 6:
                    raw.add(value)
    out = json.dumps([i.model_dump(mode="json") for i in run.items])
    out += json.dumps([f.__dict__ for f in run.failures])
    leaked = sorted(value for value in raw if value in out)
    assert leaked == []


def test_dicomdir_files_are_skipped_and_their_tree_harvested(export: Path) -> None:
    run = harvest(export)
    ct2 = pydicom.dcmread(export / "media" / "77654033" / "CT2" / "17106").SeriesInstanceUID
    assert run.series[pseudonym("series", ct2)].instance_count == 4
    key = id_key(SECRET.encode())
    for rel in ("media/DICOMDIR", "media/DICOMDIR-bigEnd"):  # indexed (not read again) but
        assert run.cursor["files"][file_id(key, rel)][2] == -1  # part of no series


# --- incremental runs --------------------------------------------------------------------------


def test_an_unchanged_export_is_not_read_again(export: Path) -> None:
    first = harvest(export)
    spine = export / PATIENT_FOLDER / "spine" / "IM0000.dcm"
    rewrite_keeping_stat(spine, b"AXIAL T2 AAAA", b"AXIAL T2 BBBB")
    again = harvest(export, first.cursor)
    assert [r.kind for r in again.records] == ["collection"]
    assert again.seen == {(r.kind, r.native_id) for r in first.records} - {("collection", "export")}
    assert apply(full(first), again) == full(first)  # the changed content was not read
    assert again.cursor == first.cursor

    touch(spine)  # now the change shows
    third = harvest(export, again.cursor)
    assert list(third.series) == [pseudonym("series", uid(2, 3))]
    spine_series = third.series[pseudonym("series", uid(2, 3))]
    assert spine_series.series_description == "AXIAL T2 BBBB"
    assert spine_series.instance_count == 3
    assert apply(full(first), third) == full(harvest(export))


def test_a_changed_file_rereads_its_whole_series(export: Path) -> None:
    first = harvest(export)
    write_series(export / PATIENT_FOLDER / "brain", 1, series=1, echo_times=(99.0,))
    again, _ = assert_converges(export, first)
    brain = again.series[pseudonym("series", uid(1, 1))]
    assert (brain.instance_count, brain.attributes["varying"]) == (
        5,
        {"echo_time_ms": [15.0, 99.0]},
    )
    assert len(again.series) == 1


def test_new_series_appear_and_removed_ones_are_not_yielded(export: Path) -> None:
    first = harvest(export)
    shutil.rmtree(export / PATIENT_FOLDER / "spine")
    write_series(export / "new", 2, series=1, study=7, patient="ZED^ZOE")
    again, _ = assert_converges(export, first)
    spine, new = pseudonym("series", uid(2, 3)), pseudonym("series", uid(7, 1))
    assert set(again.series) == {new}
    accounted = again.seen | {(r.kind, r.native_id) for r in again.records}
    assert ("series", spine) not in accounted
    assert ("study", pseudonym("study", uid(2))) not in accounted


def test_a_removed_or_added_file_rereads_its_series(export: Path) -> None:
    first = harvest(export)
    (export / "scattered" / "y" / "IM0003.dcm").unlink()
    second, state = assert_converges(export, first)
    assert second.series[pseudonym("series", uid(3, 4))].instance_count == 3
    write_series(export / "scattered" / "z", 2, series=4, study=3, patient="ROE^RICHARD", start=9)
    third, _ = assert_converges(export, second, state)  # its unchanged files are read too
    assert third.series[pseudonym("series", uid(3, 4))].instance_count == 5


def test_a_study_follows_its_representative_series(export: Path) -> None:
    """A study's record comes from one series (the smallest id): when that series goes, the
    next one is read again, unchanged as it is, to give the study record."""
    first = harvest(export)
    brain, brain2 = pseudonym("series", uid(1, 1)), pseudonym("series", uid(1, 2))
    gone = "brain" if brain < brain2 else "brain2"
    shutil.rmtree(export / PATIENT_FOLDER / gone)
    again, _ = assert_converges(export, first)
    assert ("study", pseudonym("study", uid(1))) in {(r.kind, r.native_id) for r in again.records}


def test_changed_settings_read_everything_again(export: Path) -> None:
    first = harvest(export)
    again = harvest(export, first.cursor, access_url_template="https://v.example/{series}")
    assert again.seen == set()
    assert set(again.series) == set(first.series)
    assert all(s.access_url == f"https://v.example/{k}" for k, s in again.series.items())


@pytest.mark.parametrize("since", [{"v": 99}, {"files": "x"}, "20240101", 7])
def test_an_index_it_cannot_use_means_a_full_read(export: Path, since: Any) -> None:
    assert harvest(export, since).series.keys() == harvest(export).series.keys()


def test_the_index_holds_no_path(export: Path) -> None:
    index = harvest(export).cursor
    text = json.dumps(index)
    names = {p.name for p in export.rglob("*") if len(p.name) >= 5 and not p.name.isdigit()}
    assert sorted(name for name in names if name in text) == []
    assert len(text) < 120 * len(index["files"]) + 100 * len(index["series"])


# --- workers -----------------------------------------------------------------------------------


def test_one_and_two_workers_give_the_same_items(export: Path) -> None:
    one, two = harvest(export, workers=1), harvest(export, workers=2)
    assert one.items == two.items
    assert sorted(one.failures, key=str) == sorted(two.failures, key=str)
    (export / "scattered" / "y" / "IM0003.dcm").unlink()
    assert (
        harvest(export, one.cursor, workers=1).items == harvest(export, one.cursor, workers=2).items
    )


def test_a_threaded_host_gets_worker_processes_that_work(export: Path) -> None:
    """With another thread running, workers come from a fork server, not a fork."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        threaded = harvest(export, workers=2)
    finally:
        stop.set()
        thread.join()
    assert threaded.items == harvest(export).items


# --- configuration and connection --------------------------------------------------------------


def test_check_connection(export: Path, tmp_path: Path) -> None:
    make(export).check_connection()
    harvester = make(tmp_path / "not-mounted")  # a valid configuration all the same
    for call in (harvester.check_connection, lambda: list(harvester.iter_records(None))):
        with pytest.raises(FatalHarvestError, match="cannot be read"):
            call()
    for secret in ("", "short"):
        with pytest.raises(FatalHarvestError, match="secret"):
            make(export, secret=secret).check_connection()


@pytest.mark.parametrize(
    "options",
    [
        {"access_url_template": "https://v.example/{patient_name}"},
        {"workers": 0},
        {"date_mode": "exact"},
        {"recursive": True},
        {"path": "relative/export"},
    ],
)
def test_bad_configurations_are_refused(export: Path, options: dict[str, Any]) -> None:
    with pytest.raises(PydanticValidationError):
        make(export, **options)


def test_access_urls(export: Path) -> None:
    plain = harvest(export)
    assert {s.access_url for s in plain.series.values()} == {None}
    by_folder = harvest(export, access_url_template="file:///exports/{relpath}")
    scattered = by_folder.series[pseudonym("series", uid(3, 4))]
    brain = by_folder.series[pseudonym("series", uid(1, 1))]
    assert scattered.access_url == "file:///exports/scattered"  # the folder holding them all
    assert brain.access_url == "file:///exports/DOE%5EJANE_7394512/brain"


def test_symbolic_links(export: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    write_series(elsewhere / "linked", 2, series=1, study=8)
    (export / "link").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "loop").symlink_to(elsewhere, target_is_directory=True)
    (export / "dangling").symlink_to(tmp_path / "nowhere")
    dangling = f"file:{file_id(id_key(SECRET.encode()), 'dangling')}"
    linked = pseudonym("series", uid(8, 1))
    skipped = harvest(export)
    assert linked not in skipped.series
    assert dangling not in {f.native_id for f in skipped.failures}
    followed = harvest(export, follow_symlinks=True)
    assert followed.series[linked].instance_count == 2  # the loop is walked once
    assert dangling in {f.native_id for f in followed.failures}


def test_the_harvester_contract(export: Path, tmp_path: Path) -> None:
    check_contract(lambda: make(export), lambda: make(tmp_path / "missing"))


# --- reading one file --------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "step"), [("MR_small.dcm", 2), ("rtplan.dcm", 5)])
def test_a_cut_header_is_reported_or_read_whole(name: str, step: int, tmp_path: Path) -> None:
    """pydicom takes a file cut short for a whole one. A cut inside an element is reported; a
    cut exactly between two elements cannot be told from the end of a file, but then either a
    key is missing (reported) or everything the catalogue reads came before the cut."""
    deid = Deidentifier(SECRET.encode())
    path = get_testdata_file(name)
    whole = read_header(path, deid)
    assert whole is not None and not isinstance(whole, str)
    target = tmp_path / "cut.dcm"
    data = Path(path).read_bytes()
    end = data.find(b"\xe0\x7f\x10\x00")  # (7FE0,0010) Pixel Data: what follows is not read
    for cut in range(0, end if end > 0 else len(data), step):
        target.write_bytes(data[:cut])
        outcome = read_header(str(target), deid)
        assert isinstance(outcome, str) or outcome == whole, f"{name} cut at {cut}"


def test_reading_only_the_attributes_the_deidentifier_uses_changes_nothing(
    tmp_path: Path,
) -> None:
    """A file's header is read with every attribute but `Deidentifier.tags_read` skipped: the
    clean header must be the one a full read gives, for every real file and the PHI corpus."""
    deid = Deidentifier(SECRET.encode())
    write_phi_corpus(tmp_path)
    bundled = Path(get_testdata_file("MR_small.dcm")).parent
    files = sorted(bundled.rglob("*")) + sorted(tmp_path.iterdir())
    compared = 0
    for path in (p for p in files if p.is_file()):
        outcome = read_header(str(path), deid)
        try:
            full = deid.clean(pydicom.dcmread(path, stop_before_pixels=True))
        except Exception:
            assert outcome is None or isinstance(outcome, str), path.name
            continue
        reported = isinstance(outcome, str) and "truncated" in outcome  # stricter than pydicom
        assert outcome is None or outcome == full or reported, path.name
        compared += outcome == full
    assert compared > 100
