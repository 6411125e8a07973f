"""BIDS datasets of the demo's people: `dataset_description.json`, `participants.tsv` with age,
sex, group and diagnosis, a sessions table per subject, and per MR series a tiny real NIfTI-1
image (the same bytes every time: the catalogue reads the sidecars, not the voxels) with its
JSON sidecar, as dcm2niix writes one (seconds, not milliseconds).
"""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import nibabel
import numpy as np

from api.demo.population import Person, Series, Study

#: protocol key -> (folder, entities before the suffix, suffix)
FILES = {
    "T1w": ("anat", "", "T1w"),
    "T1w+C": ("anat", "_ce-gadolinium", "T1w"),
    "FLAIR": ("anat", "_acq-tra", "FLAIR"),
    "T2w": ("anat", "", "T2w"),
    "DWI": ("dwi", "", "dwi"),
}


def write_dataset(root: Path, name: str, people: list[Person]) -> int:
    """Write a raw BIDS dataset of `people`; returns the number of images."""
    root.mkdir(parents=True, exist_ok=True)
    _json(
        root / "dataset_description.json",
        {"Name": name, "BIDSVersion": "1.9.0", "DatasetType": "raw", "License": "CC-BY-4.0",
         "Authors": ["Demo Consortium"]},
    )  # fmt: skip
    _participants(root, people)
    images = 0
    for person in people:
        subject = root / f"sub-{person.patient_id}"
        rows = [[f"ses-{v + 1:02d}", str(s.age)] for v, s in enumerate(person.studies)]
        _tsv(subject / f"sub-{person.patient_id}_sessions.tsv", ["session_id", "age"], rows)
        for visit, study in enumerate(person.studies):
            stem = f"sub-{person.patient_id}_ses-{visit + 1:02d}"
            for series in study.series:
                images += _image(subject / f"ses-{visit + 1:02d}", stem, study, series)
    return images


def _participants(root: Path, people: list[Person]) -> None:
    header = ["participant_id", "age", "sex", "group", "diagnosis"]
    rows = [
        [f"sub-{p.patient_id}", str(p.studies[0].age), p.sex,
         "patient" if p.diagnosis else "control", p.diagnosis or "n/a"]
        for p in people
    ]  # fmt: skip
    _tsv(root / "participants.tsv", header, rows)
    _json(
        root / "participants.json",
        {"age": {"Description": "age at the first session", "Units": "years"},
         "diagnosis": {"Description": "clinical diagnosis at inclusion"}},
    )  # fmt: skip


def _image(folder: Path, stem: str, study: Study, series: Series) -> int:
    key, _modality, description, tr, te, ti, flip, agent = series.protocol
    if key not in FILES:
        return 0
    where, entities, suffix = FILES[key]
    path = folder / where / f"{stem}{entities}_{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".nii").write_bytes(_nifti(suffix == "dwi"))
    manufacturer, model, tesla = study.scanner
    sidecar: dict[str, Any] = {
        "Manufacturer": manufacturer, "ManufacturersModelName": model,
        "MagneticFieldStrength": tesla, "SeriesDescription": description,
        "ProtocolName": description, "RepetitionTime": (tr or 0) / 1000,
        "EchoTime": (te or 0) / 1000, "FlipAngle": flip,
        "SliceThickness": 1.0 if suffix == "T1w" else 4.0,
        "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND"],
    }  # fmt: skip
    if ti is not None:
        sidecar["InversionTime"] = ti / 1000
    if agent is not None:
        sidecar["ContrastBolusIngredient"] = "GADOLINIUM"
    _json(path.with_suffix(".json"), sidecar)
    return 1


@cache
def _nifti(four_d: bool) -> bytes:
    shape = (4, 4, 3, 7) if four_d else (4, 4, 3)
    image = nibabel.Nifti1Image(np.zeros(shape, dtype=np.int16), np.eye(4))  # type: ignore[no-untyped-call]
    image.header.set_zooms((2.0, 2.0, 4.0, 7.0) if four_d else (1.0, 1.0, 1.0))  # type: ignore[no-untyped-call]
    image.header.set_xyzt_units("mm", "sec")  # type: ignore[no-untyped-call]
    buffer = io.BytesIO()
    file_map = image.make_file_map({"image": buffer, "header": buffer})
    image.to_file_map(file_map)  # type: ignore[no-untyped-call]
    return buffer.getvalue()


def _json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=1))


def _tsv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join("\t".join(row) for row in [header, *rows]) + "\n")
