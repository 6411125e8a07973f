"""BIDS datasets written to the specification (1.9) for the tests: real NIfTI-1 files (nibabel),
JSON sidecars at every level of the inheritance principle, participants and sessions tables,
and a derivative dataset. `write_example` is the valid dataset; the invalid variants start from
it and break one thing each.

The participant labels are made-up identifiers (`JDOE1958` and the like) so that a test can
check that none of them leaves the harvester.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nibabel
import numpy as np

LABELS = ("JDOE1958", "ASMITH", "BJONES")  # sub-<label>: identifiers, never to be yielded
SESSIONS = ("baseline", "followup")


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2))
    return path


def write_tsv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(header), *("\t".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_nifti(
    path: Path,
    shape: tuple[int, ...] = (4, 4, 3),
    zooms: tuple[float, ...] = (1.0, 1.0, 1.2),
) -> Path:
    """A tiny real NIfTI-1 image (gzipped when the name says so); units mm and seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = nibabel.Nifti1Image(np.zeros(shape, dtype=np.int16), np.eye(4))
    image.header.set_zooms(zooms)
    image.header.set_xyzt_units("mm", "sec")
    image.header["descrip"] = b"JDOE1958 scanned 2019-03-12"  # free text: never read
    nibabel.save(image, str(path))
    return path


def _mr(description: str, tr: float, te: float, **more: Any) -> dict[str, Any]:
    return {
        "Manufacturer": "Siemens",
        "ManufacturersModelName": "Prisma_fit",
        "MagneticFieldStrength": 3,
        "SeriesDescription": description,
        "ProtocolName": description,
        "RepetitionTime": tr,
        "EchoTime": te,
        "SliceThickness": 1.0,
        # Never to be copied: identifying and free-text keys a converter may write.
        "InstitutionName": "St Elsewhere Hospital",
        "DeviceSerialNumber": "167024",
        "AcquisitionDateTime": "2019-03-12T10:11:12",
        "PatientName": "DOE^JOHN",
        **more,
    }


def write_example(root: Path) -> Path:
    """Three subjects: two with baseline and follow-up sessions, one without sessions; anat
    (T1w, FLAIR), func (bold, task sidecar at the dataset root), dwi, perf (asl), pet; a
    derivative dataset of fMRIPrep outputs."""
    write_json(
        root / "dataset_description.json",
        {
            "Name": "Epilepsy imaging cohort",
            "BIDSVersion": "1.9.0",
            "DatasetType": "raw",
            "License": "CC0",
            "DatasetDOI": "doi:10.18112/openneuro.ds000001.v1.0.0",
            "Authors": ["A. Researcher"],
        },
    )
    (root / "README").write_text("Collected at St Elsewhere from JDOE1958 and others.\n")
    write_tsv(
        root / "participants.tsv",
        ["participant_id", "age", "sex", "group", "diagnosis", "handedness"],
        [
            ["sub-JDOE1958", "34", "M", "pat", "Focal epilepsy", "R"],
            ["sub-ASMITH", "95", "F", "hc", "n/a", "L"],
            ["sub-BJONES", "89+", "female", "pat", "Temporal lobe epilepsy", "R"],
        ],
    )
    write_json(
        root / "participants.json",
        {
            "age": {"Description": "age at baseline", "Units": "years"},
            "group": {"Levels": {"pat": "patient", "hc": "healthy control"}},
        },
    )
    # The inheritance principle: the task's sidecar at the root, an override for one subject.
    write_json(
        root / "task-rest_bold.json",
        _mr("ep2d_bold_rest", 2.0, 0.03, TaskName="rest", FlipAngle=90),
    )
    write_json(root / "sub-ASMITH" / "sub-ASMITH_task-rest_bold.json", {"RepetitionTime": 1.5})
    for label in LABELS[:2]:
        write_tsv(
            root / f"sub-{label}" / f"sub-{label}_sessions.tsv",
            ["session_id", "acq_time", "age"],
            [["ses-baseline", "2019-03-12T10:00:00", "n/a"], ["ses-followup", "n/a", "36.5"]],
        )
        for session in SESSIONS:
            _session(root, label, session)
    _anat(root / "sub-BJONES" / "anat", "sub-BJONES")
    _pet(root / "sub-BJONES" / "pet", "sub-BJONES")
    _derivative(root / "derivatives" / "fmriprep")
    return root


def _session(root: Path, label: str, session: str) -> None:
    folder = root / f"sub-{label}" / f"ses-{session}"
    stem = f"sub-{label}_ses-{session}"
    _anat(folder / "anat", stem)
    func = folder / "func"
    write_nifti(func / f"{stem}_task-rest_bold.nii.gz", (4, 4, 3, 5), (3.0, 3.0, 3.5, 2.0))
    write_json(func / f"{stem}_task-rest_bold.json", {"EchoTime": 0.035})
    if session == "baseline":
        dwi = folder / "dwi"
        write_nifti(dwi / f"{stem}_dwi.nii.gz", (4, 4, 3, 7), (2.0, 2.0, 2.0, 1.0))
        write_json(dwi / f"{stem}_dwi.json", _mr("ep2d_diff_mddw_20", 7.0, 0.089))
        perf = folder / "perf"
        write_nifti(perf / f"{stem}_asl.nii.gz", (4, 4, 3, 4), (3.0, 3.0, 4.0, 4.5))
        asl = _mr("pcasl", 4.5, 0.012, ArterialSpinLabelingType="PCASL")
        asl["RepetitionTimePreparation"] = asl.pop("RepetitionTime")  # as BIDS has it for ASL
        write_json(perf / f"{stem}_asl.json", asl)


def _anat(folder: Path, stem: str) -> None:
    write_nifti(folder / f"{stem}_T1w.nii.gz")
    write_json(
        folder / f"{stem}_T1w.json",
        _mr("t1_mprage_sag_p2_iso", 2.3, 0.00298, InversionTime=0.9, FlipAngle=9),
    )
    write_nifti(folder / f"{stem}_acq-tra_FLAIR.nii")
    write_json(
        folder / f"{stem}_acq-tra_FLAIR.json",
        _mr("t2_tirm_tra_dark-fluid JDOE1958 2019-03-12", 9.0, 0.081, InversionTime=2.5),
    )


def _pet(folder: Path, stem: str) -> None:
    write_nifti(folder / f"{stem}_trc-FDG_pet.nii.gz", (4, 4, 3, 3), (2.0, 2.0, 2.0, 60.0))
    write_json(
        folder / f"{stem}_trc-FDG_pet.json",
        {
            "Manufacturer": "Siemens",
            "ManufacturersModelName": "Biograph mCT",
            "TracerName": "FDG",
            "TracerRadionuclide": "F18",
            "SliceThickness": 2.0,
        },
    )


def _derivative(root: Path) -> None:
    write_json(
        root / "dataset_description.json",
        {
            "Name": "fMRIPrep outputs",
            "BIDSVersion": "1.9.0",
            "DatasetType": "derivative",
            "GeneratedBy": [{"Name": "fMRIPrep", "Version": "23.1.0"}],
        },
    )
    stem = "sub-JDOE1958_ses-baseline"
    anat = root / "sub-JDOE1958" / "ses-baseline" / "anat"
    write_nifti(anat / f"{stem}_desc-preproc_T1w.nii.gz")
    write_json(anat / f"{stem}_desc-preproc_T1w.json", {"SkullStripped": False})
    write_nifti(anat / f"{stem}_space-MNI152NLin2009cAsym_desc-brain_mask.nii.gz")
    (root / "sub-JDOE1958" / "figures").mkdir(parents=True)
    (root / "sub-JDOE1958" / "figures" / "report.svg").write_text("<svg/>")
