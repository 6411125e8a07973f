"""Generate a DICOM export tree for the folder benchmark: N real files, fast.

Every file is a copy of pydicom's MR_small.dcm (80 % of series) or CT_small.dcm (20 %) with its
own patient, study, series and instance UIDs, laid out as exports often are, with patient names
in the folder names: `PATIENT^000123/S01/SE02/IM00017.dcm`. Patients have 1-3 studies, studies
2-6 series, series 10-100 instances (seeded, so a tree is the same every time).

Files are made by byte substitution in a template whose identifiers were set to placeholders of
a fixed length, so no file is parsed or re-encoded (100,000 files take about a minute).

    .venv/bin/python bench/generate_export.py --files 20000  # → /tmp/catalogue-bench/folder-20000

A finished tree holds a hidden marker; asking again for the same tree reuses it.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

CACHE = Path(tempfile.gettempdir()) / "catalogue-bench"
ROOT = "1.2.826.0.1.3680043.8.498.42"  # a UID root for generated data
# Placeholders (fixed lengths; UID components never start with 0).
NAME, PID = "PATIENT^100000000", "PID100000000"
STUDY, SERIES, INSTANCE = f"{ROOT}.1.1999999999", f"{ROOT}.2.1999999999", f"{ROOT}.3.1999999999"


@dataclass(frozen=True)
class Template:
    data: bytes

    def fill(self, patient: int, study: int, series: int, instance: int) -> bytes:
        out = self.data
        for token, value in (
            (NAME, f"PATIENT^{100000000 + patient}"),
            (PID, f"PID{100000000 + patient}"),
            (STUDY, f"{ROOT}.1.{1000000000 + study}"),
            (SERIES, f"{ROOT}.2.{1000000000 + series}"),
            (INSTANCE, f"{ROOT}.3.{1000000000 + instance}"),
        ):
            out = out.replace(token.encode(), value.encode())
        return out


def template(name: str, scratch: Path) -> Template:
    ds = pydicom.dcmread(get_testdata_file(name))  # type: ignore[arg-type]
    ds.PatientName, ds.PatientID = NAME, PID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = STUDY, SERIES
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = INSTANCE
    path = scratch / name
    ds.save_as(path, enforce_file_format=True)
    data = path.read_bytes()
    for token in (NAME, PID, STUDY, SERIES, INSTANCE):
        assert token.encode() in data, token
    return Template(data)


def layout(files: int, seed: int) -> Iterator[tuple[int, int, int, int, bool]]:
    """(patient, study, series, instance, is CT) for `files` files."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible layout, not a secret)
    patient = study = series = made = 0
    while made < files:
        patient += 1
        for _ in range(rng.randint(1, 3)):
            study += 1
            for _ in range(rng.randint(2, 6)):
                series += 1
                ct = rng.random() < 0.2
                for _ in range(min(rng.randint(10, 100), files - made)):
                    made += 1
                    yield patient, study, series, made, ct
                if made >= files:
                    return


def generate(files: int, out: Path | None = None, seed: int = 7) -> Path:
    out = out or CACHE / f"folder-{files}"
    marker = out / f".complete-{files}-{seed}"
    if marker.exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    scratch = out / ".templates"
    scratch.mkdir(parents=True)
    mr, ct = template("MR_small.dcm", scratch), template("CT_small.dcm", scratch)
    folders: set[Path] = set()
    for patient, study, series, instance, is_ct in layout(files, seed):
        folder = out / f"PATIENT^{patient:06d}" / f"S{study:05d}" / f"SE{series:06d}"
        if folder not in folders:
            folder.mkdir(parents=True)
            folders.add(folder)
        data = (ct if is_ct else mr).fill(patient, study, series, instance)
        (folder / f"IM{instance:07d}.dcm").write_bytes(data)
    shutil.rmtree(scratch)
    marker.touch()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--out", type=Path, default=None, help=f"default {CACHE}/folder-N")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(generate(args.files, args.out, args.seed))


if __name__ == "__main__":
    sys.exit(main())
