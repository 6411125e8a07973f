"""A sample DICOM export for the tests: pydicom's bundled real files, plus a small
synthetic multi-subject brain MR study set derived from one of them (new UIDs, patients, protocols).

It is deterministic: the same call writes the same files. The synthetic patients carry made-up
names and IDs precisely so that de-identification has something to remove.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.uid import generate_uid

from harvesters.dicom._folder_read import read_header
from harvesters.dicom.deid import Deidentifier
from harvesters.dicom.header import CleanHeader

#: (SeriesDescription, ProtocolName, TR ms, TE ms, TI ms, flip°, contrast agent)
PROTOCOLS = [
    ("t1_mprage_sag_p2_iso", "t1_mprage_sag_p2_iso", 2300.0, 2.98, 900.0, 9.0, None),
    ("t2_tirm_tra_dark-fluid", "t2_tirm_tra_dark-fluid", 9000.0, 81.0, 2500.0, 150.0, None),
    ("t2_tse_tra_p2", "t2_tse_tra_p2", 5000.0, 98.0, None, 150.0, None),
    ("ep2d_diff_mddw_20_p2", "ep2d_diff_mddw_20_p2", 7000.0, 89.0, None, 90.0, None),
    ("t1_mprage_sag_p2_iso +C", "t1_mprage_sag_p2_iso_post", 2300.0, 2.98, 900.0, 9.0, "Gadovist"),
]
SYNTHETIC_SUBJECTS = 12
UID_ROOT = "1.2.826.0.1.3680043.8.498."  # pydicom's root for generated UIDs


def write_sample_export(target: Path) -> int:
    """Write the sample export under `target` (nested folders); returns the number of files."""
    target.mkdir(parents=True, exist_ok=True)
    written = _copy_bundled(target / "pydicom")
    written += _write_synthetic(target / "brain-mr")
    return written


def _copy_bundled(folder: Path) -> int:
    count = 0
    for index, path in enumerate(sorted(get_testdata_files())):
        if not _has_identity(Path(path)):
            continue
        destination = folder / f"{index // 20:02d}" / Path(path).name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        count += 1
    return count


def _has_identity(path: Path) -> bool:
    """Only files the folder harvester reads cleanly: some bundled files are deliberately broken
    (truncated, no PatientID), and a demo should show a clean first run."""
    return isinstance(read_header(str(path), _PROBE), CleanHeader)


_PROBE = Deidentifier(b"sample-export-probe-key")


def _write_synthetic(folder: Path) -> int:
    template = pydicom.dcmread(str(get_testdata_file("MR_small.dcm")))
    rng = random.Random(20261124)  # noqa: S311 - deterministic sample data, not a secret
    count = 0
    for n in range(SYNTHETIC_SUBJECTS):
        ds = template.copy()
        ds.PatientName = f"SAMPLE^SUBJECT{n:02d}"
        ds.PatientID = f"SAMPLE-{n:04d}"
        ds.PatientSex = "F" if n % 2 else "M"
        year = 2015 + n % 8
        ds.PatientBirthDate = f"{year - rng.randint(20, 70)}0{rng.randint(1, 9)}15"
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = f"{year}0612"
        ds.StudyInstanceUID = generate_uid(UID_ROOT, [f"study-{n}"])
        ds.StudyDescription = "MRT Schaedel" if n % 3 else "Brain MRI"
        ds.BodyPartExamined = "BRAIN" if n % 4 else "HEAD"
        ds.MagneticFieldStrength = 3.0 if n % 3 else 1.5
        ds.Manufacturer = "SIEMENS" if n % 2 else "GE MEDICAL SYSTEMS"
        for k, protocol in enumerate(PROTOCOLS[: 3 + n % 3]):
            count += _write_series(ds, folder / f"subject-{n:02d}" / f"series-{k}", protocol, n, k)
    return count


def _write_series(
    base: pydicom.Dataset, folder: Path, protocol: tuple[object, ...], n: int, k: int
) -> int:
    description, name, tr, te, ti, flip, agent = protocol
    folder.mkdir(parents=True, exist_ok=True)
    ds = base.copy()
    ds.SeriesInstanceUID = generate_uid(UID_ROOT, [f"series-{n}-{k}"])
    ds.SeriesDescription, ds.ProtocolName, ds.SeriesNumber = description, name, k + 1
    ds.RepetitionTime, ds.EchoTime, ds.FlipAngle = tr, te, flip
    if ti is not None:
        ds.InversionTime = ti
    if agent is not None:
        ds.ContrastBolusAgent = agent
    for instance in range(1, 4):
        ds.SOPInstanceUID = generate_uid(UID_ROOT, [f"instance-{n}-{k}-{instance}"])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = instance
        ds.save_as(folder / f"{instance:04d}.dcm", enforce_file_format=True)
    return 3
