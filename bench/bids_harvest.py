"""Benchmark: the bids harvester against a bare loop that reads the same JSON sidecars.

The bare loop is the least a program must do to get the same sidecar values: walk the dataset
with `os.walk` and `json.load` every `.json` file once. The harvester does that plus the layout
(entity rules, inheritance), the participants and sessions tables, keyed pseudonyms, screening,
records and its cursor. "Harvest" means iterating `iter_records` to the end (the runner's
database writes are not in it).

    .venv/bin/python bench/bids_harvest.py                     # 300 subjects, 3 runs
    .venv/bin/python bench/bids_harvest.py --subjects 1000
    .venv/bin/python bench/bids_harvest.py --pybids-python /path/to/venv-with-pybids/bin/python

Prints medians and the ratio of the harvest's throughput to the bare loop's (1.00x = as fast),
and the re-harvest of the unchanged dataset with the cursor (no sidecar opened). With
`--pybids-python`, also the time pybids takes to index the same dataset and fetch every image's
merged metadata, in that interpreter (pybids is not a dependency of the project). Datasets are
generated once into /tmp/catalogue-bench/bids-N and reused; the page cache is warmed first.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from catalogue.records import Checkpoint
from harvesters.base import HarvestContext
from harvesters.bids.harvester import BidsConfig, BidsHarvester

SECRET = "benchmark-secret-of-32-characters"  # noqa: S105 (generated data only)
CACHE = Path("/tmp/catalogue-bench")  # noqa: S108 (benchmark data, regenerated at will)

# A 4x4x3 NIfTI-1 image, gzipped: every image of the dataset is a copy (only headers matter).
_HEADER = bytearray(352)
_HEADER[0:4] = (348).to_bytes(4, "little")
for _i, _v in enumerate((3, 4, 4, 3, 1, 1, 1, 1)):
    _HEADER[40 + 2 * _i : 42 + 2 * _i] = _v.to_bytes(2, "little")
_HEADER[70:72] = (4).to_bytes(2, "little")  # int16
_HEADER[72:74] = (16).to_bytes(2, "little")
_HEADER[344:348] = b"n+1\0"
NIFTI = gzip.compress(bytes(_HEADER) + bytes(4 * 4 * 3 * 2), mtime=0)

PROTOCOLS = {
    "anat/{s}_T1w": ("t1_mprage_sag_p2_iso", 2.3, 0.00298, 0.9, 9),
    "anat/{s}_FLAIR": ("t2_tirm_tra_dark-fluid", 9.0, 0.081, 2.5, 150),
    "func/{s}_task-rest_run-1_bold": ("ep2d_bold_rest", 2.0, 0.03, None, 90),
    "func/{s}_task-rest_run-2_bold": ("ep2d_bold_rest", 2.0, 0.03, None, 90),
    "dwi/{s}_dwi": ("ep2d_diff_mddw_20", 7.0, 0.089, None, 90),
}


def sidecar(description: str, tr: float, te: float, ti: float | None, flip: int) -> dict[str, Any]:
    """What dcm2niix writes for a Siemens scan, in size and kind (about 1.5 KB)."""
    values: dict[str, Any] = {
        "Modality": "MR", "MagneticFieldStrength": 3, "ImagingFrequency": 123.25,
        "Manufacturer": "Siemens", "ManufacturersModelName": "Prisma_fit",
        "InstitutionName": "Hospital", "DeviceSerialNumber": "167024",
        "StationName": "AWP167024", "BodyPartExamined": "BRAIN",
        "PatientPosition": "HFS", "ProcedureStepDescription": "Neuro_Brain",
        "SoftwareVersions": "syngo MR XA30", "MRAcquisitionType": "3D",
        "SeriesDescription": description, "ProtocolName": description,
        "ScanningSequence": "GR_IR", "SequenceVariant": "SK_SP_MP", "ScanOptions": "IR",
        "SequenceName": "*tfl3d1_16ns", "ImageType": ["ORIGINAL", "PRIMARY", "M", "NORM"],
        "SeriesNumber": 3, "AcquisitionTime": "10:11:12.000000", "AcquisitionNumber": 1,
        "SliceThickness": 1, "SpacingBetweenSlices": 1, "SAR": 0.05, "EchoTime": te,
        "RepetitionTime": tr, "FlipAngle": flip, "PartialFourier": 1, "BaseResolution": 256,
        "ShimSetting": [-2403, 11604, -8211, 295, 18, -39, 53, 12],
        "TxRefAmp": 269.4, "PhaseResolution": 1, "ReceiveCoilName": "HeadNeck_64",
        "ReceiveCoilActiveElements": "HC1-7", "PulseSequenceDetails": "%SiemensSeq%\\tfl",
        "CoilCombinationMethod": "Adaptive Combine", "MatrixCoilMode": "GRAPPA",
        "PercentPhaseFOV": 100, "PercentSampling": 100, "PhaseEncodingSteps": 255,
        "AcquisitionMatrixPE": 256, "ReconMatrixPE": 256, "ParallelReductionFactorInPlane": 2,
        "PixelBandwidth": 240, "DwellTime": 8.1e-06, "ImageOrientationPatientDICOM": [
            0, 1, 0, 0, 0, -1], "InPlanePhaseEncodingDirectionDICOM": "ROW",
        "ConversionSoftware": "dcm2niix", "ConversionSoftwareVersion": "v1.0.20220720",
    }  # fmt: skip
    if ti is not None:
        values["InversionTime"] = ti
    return values


def generate(subjects: int) -> Path:
    """A BIDS dataset of `subjects` subjects, two sessions each, five images a session."""
    root = CACHE / f"bids-{subjects}"
    if (root / "participants.tsv").is_file():
        return root
    (root / "sub-x").mkdir(parents=True, exist_ok=True)
    (root / "sub-x").rmdir()
    description = {"Name": "Benchmark", "BIDSVersion": "1.9.0", "DatasetType": "raw"}
    (root / "dataset_description.json").write_text(json.dumps(description))
    (root / "task-rest_bold.json").write_text(json.dumps({"TaskName": "rest"}))
    rows = ["participant_id\tage\tsex\tgroup"]
    for n in range(subjects):
        label = f"P{n:05d}"
        rows.append(
            f"sub-{label}\t{20 + n % 70}\t{'MF'[n % 2]}\t{('patient', 'control')[n % 3 == 0]}"
        )
        for session in ("baseline", "followup"):
            stem = f"sub-{label}_ses-{session}"
            folder = root / f"sub-{label}" / f"ses-{session}"
            for pattern, protocol in PROTOCOLS.items():
                path = folder / pattern.format(s=stem)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.with_name(path.name + ".nii.gz").write_bytes(NIFTI)
                path.with_name(path.name + ".json").write_text(json.dumps(sidecar(*protocol)))
    (root / "participants.tsv").write_text("\n".join(rows) + "\n")  # last: marks it complete
    return root


def warm(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            Path(folder, name).read_bytes()


def baseline(root: Path) -> tuple[float, int]:
    start = time.perf_counter()
    count = 0
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".json"):
                with open(os.path.join(folder, name), "rb") as f:
                    json.load(f)
                count += 1
    return time.perf_counter() - start, count


def harvest(root: Path, since: Any = None) -> tuple[float, Any, int]:
    config = BidsConfig(path=root)
    context = HarvestContext(source="bench", site="bench", pseudonym_secret=SecretStr(SECRET))
    harvester = BidsHarvester(config, context)
    start = time.perf_counter()
    count, last = 0, None
    for item in harvester.iter_records(since):  # as the runner does: records are not kept
        count, last = count + 1, item
    elapsed = time.perf_counter() - start
    assert not harvester.report.failures, harvester.report.failures[:3]
    assert isinstance(last, Checkpoint)
    return elapsed, last.cursor, count


PYBIDS = """
import sys, time
from bids import BIDSLayout
start = time.perf_counter()
layout = BIDSLayout(sys.argv[1], validate=False)
images = layout.get(extension=[".nii", ".nii.gz"])
for image in images:
    image.get_metadata()
print(time.perf_counter() - start, len(images))
"""


def pybids(python: str, root: Path) -> float:
    out = subprocess.run(
        [python, "-c", PYBIDS, str(root)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.split()[0])


def probe(root: str) -> None:
    """In a fresh process: peak RSS (KiB) after the imports, then after one harvest."""
    before = _peak_kib()
    harvest(Path(root))
    print(before, _peak_kib())


def _peak_kib() -> int:
    """VmHWM: unlike ru_maxrss, it starts afresh at exec (a child would inherit our peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status (not Linux?)")


def memory(subjects: int) -> None:
    """Peak memory of a harvest of N and 2N subjects, each in a fresh process."""
    print("(e) peak RSS of one harvest, each in a fresh process (imports: the first figure)")
    for n in (subjects, 2 * subjects):
        root = generate(n)
        out = subprocess.run(
            [sys.executable, __file__, "--probe", str(root)],
            capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
        imports, peak = (int(v) / 1024 for v in out)
        images = n * 2 * len(PROTOCOLS)
        grown = (peak - imports) * 1024 / images
        print(f"    {n:6d} subjects, {images:6d} images: {imports:6.1f} MiB -> {peak:6.1f} MiB"
              f" ({grown:.1f} KiB an image)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pybids-python", help="an interpreter that has pybids installed")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe is not None:
        probe(args.probe)
        return
    root = generate(args.subjects)
    warm(root)
    times: dict[str, list[float]] = {"base": [], "harvest": [], "again": [], "pybids": []}
    for _ in range(args.runs):
        base, sidecars = baseline(root)
        first, cursor, items = harvest(root)
        again, _cursor, _items = harvest(root, cursor)
        times["base"].append(base)
        times["harvest"].append(first)
        times["again"].append(again)
        if args.pybids_python:
            times["pybids"].append(pybids(args.pybids_python, root))
    report(args.subjects, sidecars, items, {k: v for k, v in times.items() if v})
    memory(args.subjects)


def report(subjects: int, sidecars: int, items: int, times: dict[str, list[float]]) -> None:
    med = {k: statistics.median(v) for k, v in times.items()}
    base, first, again = med["base"], med["harvest"], med["again"]
    runs = len(times["base"])
    print(f"{subjects} subjects, {sidecars} JSON files, {items} items; medians of {runs} runs")
    print(f"(a) bare loop: os.walk + json.load        {base:7.3f} s  1.00x")
    print(f"(b) bids harvest, first run               {first:7.3f} s  {base / first:.2f}x")
    print(f"(c) re-harvest of the unchanged dataset   {again:7.3f} s  {base / again:.2f}x")
    print(f"    (c) is {first / again:.1f}x faster than (b)")
    if "pybids" in med:
        other = med["pybids"]
        print(f"(d) pybids: index, every image's metadata {other:7.3f} s  {base / other:.2f}x")
        print(f"    (b) is {other / first:.1f}x faster than (d)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
