"""The `bids` harvester against BIDS datasets written in the tests to the specification."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import FatalHarvestError
from catalogue.models import Sex
from catalogue.records import (
    Checkpoint,
    CollectionRecord,
    Item,
    Record,
    Seen,
    SeriesRecord,
    StudyRecord,
    SubjectRecord,
)
from harvesters.base import HarvestContext, RecordFailure
from harvesters.bids.harvester import BidsConfig, BidsHarvester
from harvesters.pseudonyms import Pseudonymiser
from tests.harvesters.bids_datasets import LABELS, write_example, write_json, write_nifti

SECRET = "a-bids-test-secret-of-32-characters"


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

    def of(self, kind: type[Any]) -> list[Any]:
        return [r for r in self.records if isinstance(r, kind)]

    @property
    def cursor(self) -> Any:
        last = self.items[-1]
        assert isinstance(last, Checkpoint)
        return last.cursor

    def reasons(self) -> list[str]:
        return sorted(f.reason for f in self.failures)


def make(root: Path, **options: Any) -> BidsHarvester:
    config = BidsConfig.model_validate(
        {"path": root, "diagnosis_columns": ["diagnosis"], **options}
    )
    context = HarvestContext(source="epilepsy", site="test", pseudonym_secret=SecretStr(SECRET))
    return BidsHarvester(config, context)


def harvest(root: Path, since: Any = None, **options: Any) -> Run:
    harvester = make(root, **options)
    items = list(harvester.iter_records(since))
    return Run(items, harvester.report.failures)


def subject_id(label: str, collection: str = "epilepsy") -> str:
    return Pseudonymiser(SECRET.encode()).pseudonym("subject", f"bids\0{collection}\0{label}")


def series_by(run: Run, suffix: str, subject: str | None = None) -> list[SeriesRecord]:
    return [
        s
        for s in run.of(SeriesRecord)
        if s.attributes["sequence_type"] == suffix
        and (subject is None or s.subject == subject_id(subject))
    ]


def touch(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_example(tmp_path / "ds")


# --- a valid dataset -----------------------------------------------------------------------------


def test_the_dataset_becomes_one_collection(dataset: Path) -> None:
    run = harvest(dataset)
    assert run.failures == []
    [collection] = run.of(CollectionRecord)
    assert collection.native_id == "epilepsy"
    assert collection.title == "Epilepsy imaging cohort"
    assert collection.description == (
        "BIDS 1.9.0 raw dataset; licence CC0; DOI doi:10.18112/openneuro.ds000001.v1.0.0; "
        "derivatives: fMRIPrep"
    )
    assert collection.access_url == dataset.as_uri()
    assert make(dataset, collection="Cohort A").config.collection == "Cohort A"


def test_participants_become_pseudonymous_subjects(dataset: Path) -> None:
    subjects = {s.native_id: s for s in harvest(dataset).of(SubjectRecord)}
    assert set(subjects) == {subject_id(label) for label in LABELS}
    jdoe, asmith, bjones = (subjects[subject_id(label)] for label in LABELS)
    assert (jdoe.sex, jdoe.group, jdoe.diagnoses) == (Sex.MALE, "patient", ("Focal epilepsy",))
    assert (asmith.sex, asmith.group, asmith.diagnoses) == (Sex.FEMALE, "healthy control", ())
    assert (bjones.sex, bjones.diagnoses) == (Sex.FEMALE, ("Temporal lobe epilepsy",))
    assert all(s.birth_year is None for s in subjects.values())  # no dates


def test_sessions_become_studies_with_capped_ages(dataset: Path) -> None:
    studies = harvest(dataset).of(StudyRecord)
    ages = {(s.subject, s.description): s.age_years for s in studies}
    assert ages == {
        (subject_id("JDOE1958"), "session baseline"): 34.0,  # the participant's age
        (subject_id("JDOE1958"), "session followup"): 36.5,  # the sessions table's
        (subject_id("ASMITH"), "session baseline"): 90.0,  # 95 is reduced to 90
        (subject_id("ASMITH"), "session followup"): 36.5,
        (subject_id("BJONES"), None): 90.0,  # "89+", one study without sessions
    }
    assert all(s.year is None for s in studies)


def test_nifti_images_become_series_with_their_inherited_sidecars(dataset: Path) -> None:
    run = harvest(dataset)
    assert len(run.of(SeriesRecord)) == 21
    [t1] = series_by(run, "T1w", "BJONES")
    assert (t1.modality, t1.manufacturer, t1.model_name) == ("MR", "Siemens", "Prisma_fit")
    assert (t1.field_strength_t, t1.repetition_time_ms, t1.echo_time_ms) == (3.0, 2300.0, 2.98)
    assert (t1.inversion_time_ms, t1.flip_angle_deg, t1.slice_thickness_mm) == (900.0, 9.0, 1.0)
    assert t1.series_description == t1.protocol_name == "t1_mprage_sag_p2_iso"
    assert t1.attributes["bids"] == {"datatype": "anat", "suffix": "T1w", "entities": {}}
    # bold: the root's task sidecar, then the subject's override, then the file's own.
    bold = series_by(run, "bold", "JDOE1958")
    assert {(s.repetition_time_ms, s.echo_time_ms) for s in bold} == {(2000.0, 35.0)}
    [asmith_bold, *_] = series_by(run, "bold", "ASMITH")
    assert (asmith_bold.repetition_time_ms, asmith_bold.flip_angle_deg) == (1500.0, 90.0)
    assert asmith_bold.attributes["TaskName"] == "rest"
    assert asmith_bold.attributes["bids"]["entities"] == {"task": "rest"}
    [pet] = series_by(run, "pet")
    assert (pet.modality, pet.attributes["TracerName"]) == ("PT", "FDG")
    assert {s.modality for s in series_by(run, "dwi") + series_by(run, "asl")} == {"MR"}
    assert {s.repetition_time_ms for s in series_by(run, "asl")} == {4500.0}
    assert {s.attributes["sequence_type"] for s in run.of(SeriesRecord)} == {
        "T1w", "FLAIR", "bold", "dwi", "asl", "pet", "mask",
    }  # fmt: skip


def test_derivatives_join_their_subjects_marked_as_such(dataset: Path) -> None:
    run = harvest(dataset)
    derived = [s for s in run.of(SeriesRecord) if "derivative" in s.attributes]
    assert len(derived) == 2
    assert {s.attributes["derivative"]["pipeline"] for s in derived} == {"fMRIPrep"}
    raw_studies = {s.study for s in run.of(SeriesRecord) if "derivative" not in s.attributes}
    assert {s.study for s in derived} <= raw_studies
    assert {s.attributes["bids"]["entities"].get("desc") for s in derived} == {"preproc", "brain"}
    without = harvest(dataset, derivatives=False)
    assert len(without.of(SeriesRecord)) == 19


def test_the_nifti_header_fills_in_what_sidecars_lack(dataset: Path) -> None:
    run = harvest(dataset)
    [mask] = series_by(run, "mask")  # no sidecar at all
    assert mask.slice_thickness_mm == 1.2
    assert mask.attributes["dimensions"] == [4, 4, 3]
    assert mask.attributes["voxel_size_mm"] == [1.0, 1.0, 1.2]
    [t1] = series_by(run, "T1w", "BJONES")  # the sidecar had everything: no header read
    assert "dimensions" not in t1.attributes
    bold = dataset / "sub-BJONES" / "func" / "sub-BJONES_task-rest_bold.nii.gz"
    write_nifti(bold, (4, 4, 3, 6), (3.0, 3.0, 3.5, 2.5))
    write_json(dataset / "task-rest_bold.json", {"TaskName": "rest", "SliceThickness": 3.5})
    [from_header] = series_by(harvest(dataset), "bold", "BJONES")
    assert from_header.repetition_time_ms == 2500.0
    assert from_header.attributes["volumes"] == 6
    assert (
        harvest(dataset, nifti_headers=False).of(SeriesRecord)[0].attributes.get("dimensions")
        is None
    )


def test_no_identifier_leaves_the_harvester(dataset: Path) -> None:
    run = harvest(dataset)
    dumped = json.dumps([r.model_dump(mode="json") for r in run.records]).lower()
    for label in LABELS:
        assert label.lower() not in dumped
    for forbidden in ("elsewhere", "167024", "2019", "doe^john", "handedness", "baseline/"):
        assert forbidden not in dumped
    assert "ses-" not in dumped and "sub-" not in dumped
    flair = series_by(run, "FLAIR")[0]
    assert flair.series_description == "t2_tirm_tra_dark-fluid [removed] [removed]"
    cursor = json.dumps(run.cursor).lower()
    assert not any(label.lower() in cursor for label in LABELS)


def test_subject_keys_can_line_up_with_the_sites_dicom_sources(dataset: Path) -> None:
    run = harvest(dataset, subject_key="label")
    expected = Pseudonymiser(SECRET.encode()).pseudonym("subject", "JDOE1958")
    assert expected in {s.native_id for s in run.of(SubjectRecord)}
    other = harvest(dataset, collection_id="other")
    assert subject_id("JDOE1958", "other") in {s.native_id for s in other.of(SubjectRecord)}
    assert subject_id("JDOE1958") not in {s.native_id for s in other.of(SubjectRecord)}


def test_access_addresses(dataset: Path) -> None:
    run = harvest(dataset, access_url_base="https://data.site.example/bids/epilepsy/")
    assert {s.access_url for s in run.of(SeriesRecord)} == {
        "https://data.site.example/bids/epilepsy"
    }
    per_file = harvest(dataset, series_addresses=True)
    [t1] = series_by(per_file, "T1w", "BJONES")
    assert t1.access_url == f"{dataset.as_uri()}/sub-BJONES/anat/sub-BJONES_T1w.nii.gz"


# --- incremental ---------------------------------------------------------------------------------


def test_an_unchanged_dataset_is_not_read_again(dataset: Path) -> None:
    first = harvest(dataset)
    sidecar = dataset / "sub-BJONES" / "anat" / "sub-BJONES_T1w.json"
    info = sidecar.stat()
    sidecar.write_text(sidecar.read_text().replace("Prisma_fit", "Prisma_XXX"))
    os.utime(sidecar, ns=(info.st_atime_ns, info.st_mtime_ns))  # same size and mtime
    again = harvest(dataset, first.cursor)
    assert again.records == []
    assert again.seen == {(r.kind, r.native_id) for r in first.records}
    assert again.cursor == first.cursor
    touch(sidecar)
    third = harvest(dataset, again.cursor)
    assert [(r.kind, r.model_name) for r in third.of(SeriesRecord)] == [("series", "Prisma_XXX")]
    assert [r.kind for r in third.records] == ["series"]


def test_a_changed_inherited_sidecar_rereads_the_series_below_it(dataset: Path) -> None:
    first = harvest(dataset)
    touch(dataset / "task-rest_bold.json")
    again = harvest(dataset, first.cursor)
    assert {r.attributes["sequence_type"] for r in again.of(SeriesRecord)} == {"bold"}
    assert len(again.of(SeriesRecord)) == 4
    touch(dataset / "participants.tsv")
    third = harvest(dataset, again.cursor)
    assert {r.kind for r in third.records} == {"subject", "study"}


def test_removed_and_added_files_and_subjects(dataset: Path) -> None:
    first = harvest(dataset)
    (dataset / "sub-BJONES" / "pet" / "sub-BJONES_trc-FDG_pet.nii.gz").unlink()
    write_nifti(dataset / "sub-NEW01" / "anat" / "sub-NEW01_T2w.nii.gz")
    again = harvest(dataset, first.cursor)
    accounted = {(r.kind, r.native_id) for r in again.records} | again.seen
    assert accounted == {(r.kind, r.native_id) for r in harvest(dataset).records}
    assert {r.kind for r in again.records} == {"subject", "study", "series"}
    [new] = again.of(SubjectRecord)
    assert (new.native_id, new.sex) == (subject_id("NEW01"), Sex.UNKNOWN)


def test_participants_without_images_come_and_go_with_their_rows(dataset: Path) -> None:
    table = dataset / "participants.tsv"
    original = table.read_text()
    table.write_text(original + "sub-NOSCAN1\t51\tF\tpat\tn/a\tR\n")
    first = harvest(dataset)
    assert subject_id("NOSCAN1") in {s.native_id for s in first.of(SubjectRecord)}
    unchanged = harvest(dataset, first.cursor)
    assert ("subject", subject_id("NOSCAN1")) in unchanged.seen
    table.write_text(original)
    touch(table)
    gone = harvest(dataset, unchanged.cursor)
    accounted = {(r.kind, r.native_id) for r in gone.records} | gone.seen
    assert ("subject", subject_id("NOSCAN1")) not in accounted
    assert len([k for k, _ in accounted if k == "subject"]) == 3


def test_changed_settings_read_everything_again(dataset: Path) -> None:
    first = harvest(dataset)
    again = harvest(dataset, first.cursor, group_columns=["diagnosis"])
    assert len(again.records) == len(first.records)
    assert harvest(dataset, {"v": 99}).seen == set()


# --- invalid datasets ----------------------------------------------------------------------------


def test_a_missing_dataset_description_is_reported_and_the_rest_harvested(dataset: Path) -> None:
    (dataset / "dataset_description.json").unlink()
    run = harvest(dataset)
    assert run.reasons() == ["dataset_description.json is missing"]
    assert run.failures[0].native_id.startswith("file:")
    [collection] = run.of(CollectionRecord)
    assert collection.title == "ds"  # the folder's name
    assert len(run.of(SeriesRecord)) == 21
    again = harvest(dataset, run.cursor)
    assert again.reasons() == ["dataset_description.json is missing"]  # still reported
    located = make(dataset).locate([run.failures[0].native_id])
    assert list(located.values()) == ["dataset_description.json"]


def test_a_broken_sidecar_is_reported_per_series_and_the_rest_harvested(dataset: Path) -> None:
    first = harvest(dataset)
    (dataset / "task-rest_bold.json").write_text('{"RepetitionTime": 2.0,')
    (dataset / "sub-BJONES" / "anat" / "sub-BJONES_T1w.json").write_text("[1, 2]")
    run = harvest(dataset)
    reasons = run.reasons()
    assert len(reasons) == 5
    assert sum("is not valid JSON" in r for r in reasons) == 4
    assert sum("is not a JSON object" in r for r in reasons) == 1
    assert all(f.native_id.startswith("series:") for f in run.failures)
    assert len(run.of(SeriesRecord)) == 16
    incremental = harvest(dataset, first.cursor)  # what the catalogue had is kept
    assert len(incremental.reasons()) == 5
    assert {("series", s.native_id) for s in first.of(SeriesRecord)} <= incremental.seen | {
        ("series", s.native_id) for s in incremental.of(SeriesRecord)
    }


def test_bad_participant_rows_are_reported_and_the_others_used(dataset: Path) -> None:
    (dataset / "participants.tsv").write_text(
        "participant_id\tage\tsex\tgroup\tdiagnosis\n"
        "sub-JDOE1958\tthirty\tM\tpat\tn/a\n"  # row 2: bad age
        "JDOE1958\t30\tM\tpat\tn/a\n"  # row 3: no sub- prefix
        "sub-ASMITH\t40\tF\n"  # row 4: too few values
        "sub-JDOE1958\t31\tM\tpat\tn/a\n"  # row 5: repeated
        "sub-BJONES\t50\tF\thc\tn/a\n"
    )
    run = harvest(dataset)
    assert {f.native_id for f in run.failures} == {
        f"participants.tsv:row {n}" for n in (2, 3, 4, 5)
    }
    assert not any("JDOE" in f.reason or "thirty" in f.reason for f in run.failures)
    subjects = {s.native_id: s for s in run.of(SubjectRecord)}
    assert len(subjects) == 3
    assert subjects[subject_id("JDOE1958")].sex == Sex.MALE  # the row, without its bad age
    assert subjects[subject_id("ASMITH")].sex == Sex.UNKNOWN  # the folder, without a row
    assert subjects[subject_id("BJONES")].group == "healthy control"
    again = harvest(dataset, run.cursor)
    assert len(again.failures) == 4  # read and reported again until fixed


def test_files_outside_the_naming_rules_are_reported(dataset: Path) -> None:
    anat = dataset / "sub-BJONES" / "anat"
    for name in (
        "sub-ASMITH_T1w.nii.gz",  # another subject's file
        "T1.nii.gz",  # no entities
        "sub-BJONES_foo-bar_T1w.nii.gz",  # an unknown entity
        "sub-BJONES_run-1_acq-x_T1w.nii.gz",  # entities out of order
        "sub-BJONES_run-one_T1w.nii.gz",  # an index that is not a number
        "sub-BJONES_ses-x_T1w.nii.gz",  # a session entity without a session folder
    ):
        write_nifti(anat / name)
    write_nifti(dataset / "sub-BJONES" / "scans" / "sub-BJONES_T1w.nii.gz")
    write_nifti(dataset / "sub-BJONES" / "sub-BJONES_T2w.nii.gz")  # not in a datatype folder
    (anat / "notes.txt").write_text("not a BIDS file, not an image: ignored")
    run = harvest(dataset)
    assert len(run.failures) == 8
    assert all(f.native_id.startswith("file:") for f in run.failures)
    assert sum("naming rules" in r for r in run.reasons()) == 6
    assert "folder is not a BIDS datatype" in run.reasons()
    assert "image is not in a datatype folder" in run.reasons()
    assert len(run.of(SeriesRecord)) == 21
    located = make(dataset).locate(f.native_id for f in run.failures)
    assert sorted(located.values())[0] == "sub-BJONES/anat/T1.nii.gz"
    assert len(located) == 8


def test_a_broken_nifti_is_reported_and_its_sidecar_values_kept(dataset: Path) -> None:
    mask = next(dataset.glob("derivatives/fmriprep/**/*_mask.nii.gz"))
    mask.write_bytes(mask.read_bytes()[:40])
    run = harvest(dataset)
    [failure] = run.failures
    assert failure.reason.startswith("its NIfTI header cannot be read (")
    assert failure.native_id.startswith("series:")
    assert len(series_by(run, "mask")) == 1


def test_a_bad_sessions_table_is_reported(dataset: Path) -> None:
    (dataset / "sub-ASMITH" / "sub-ASMITH_sessions.tsv").write_text(
        "session_id\tage\nses-baseline\told\nbaseline\t3\n"
    )
    run = harvest(dataset)
    assert {f.reason for f in run.failures} == {
        "age is not a number of years",
        "session_id is not ses-<alphanumeric label>",
    }
    assert all(f.native_id.startswith(f"subject:{subject_id('ASMITH')}") for f in run.failures)


# --- configuration and connection ----------------------------------------------------------------


def test_annexed_images_behind_links_are_harvested(dataset: Path, tmp_path: Path) -> None:
    """DataLad and git-annex datasets keep images as links into the annex, some of them
    dangling until their content is fetched; links to folders are not followed."""
    anat = dataset / "sub-BJONES" / "anat"
    annex = dataset / ".git" / "annex" / "objects"
    annex.mkdir(parents=True)
    (anat / "sub-BJONES_T1w.nii.gz").rename(annex / "MD5E-s1--t1.nii.gz")
    (anat / "sub-BJONES_T1w.nii.gz").symlink_to(annex / "MD5E-s1--t1.nii.gz")
    (anat / "sub-BJONES_acq-tra_FLAIR.nii").unlink()
    (anat / "sub-BJONES_acq-tra_FLAIR.nii").symlink_to(annex / "not-fetched.nii")
    (dataset / "sub-BJONES" / "loop").symlink_to(dataset)
    run = harvest(dataset)
    assert run.failures == []
    assert len(run.of(SeriesRecord)) == 21
    [flair] = series_by(run, "FLAIR", "BJONES")
    assert (flair.slice_thickness_mm, flair.echo_time_ms) == (1.0, 81.0)  # from its sidecar
    assert harvest(dataset, run.cursor).records == []


def test_images_beside_session_folders_get_a_study_of_their_own(dataset: Path) -> None:
    write_nifti(dataset / "sub-ASMITH" / "anat" / "sub-ASMITH_T2w.nii.gz")
    run = harvest(dataset)
    [t2] = series_by(run, "T2w")
    assert t2.study in {r.native_id for r in run.of(StudyRecord)}
    assert len(run.of(StudyRecord)) == 6


def test_check_connection(dataset: Path, tmp_path: Path) -> None:
    make(dataset).check_connection()
    with pytest.raises(FatalHarvestError, match="cannot be read"):
        make(tmp_path / "nowhere").check_connection()
    with pytest.raises(FatalHarvestError, match="cannot be read"):
        list(make(tmp_path / "nowhere").iter_records(None))
    config = BidsConfig(path=dataset)
    no_secret = BidsHarvester(config, HarvestContext(source="s", site="x"))
    with pytest.raises(FatalHarvestError, match="no pseudonym secret"):
        no_secret.check_connection()
    short = HarvestContext(source="s", site="x", pseudonym_secret=SecretStr("short"))
    with pytest.raises(FatalHarvestError, match="16"):
        BidsHarvester(config, short).check_connection()


@pytest.mark.parametrize(
    "options",
    [
        {"path": "relative/ds"},
        {"path": "/ds", "unknown": 1},
        {"path": "/ds", "access_url_base": "ftp://x/"},
        {"path": "/ds", "subject_key": "name"},
    ],
)
def test_bad_configurations_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(PydanticValidationError):
        BidsConfig.model_validate(options)
