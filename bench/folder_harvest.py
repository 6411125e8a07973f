"""Benchmark: the dicom-folder harvester against a bare pydicom loop over the same files.

The bare loop is the least a program must do to get the same information: one process,
`pydicom.dcmread(f, stop_before_pixels=True)` on every file of a pre-made list, then the value of
every attribute the de-identifier reads. The harvester does that plus the walk (stat and keyed
path hash of every file), de-identification, series aggregation, records and its file index.
"Harvest" means iterating `iter_records` to the end (the runner's database writes are not in it).

    .venv/bin/python bench/folder_harvest.py                     # 20,000 files, 3 runs
    .venv/bin/python bench/folder_harvest.py --files 100000 --runs 3

Prints medians and ratios against the baseline of the same run; targets: one worker >= 0.8x the
baseline's throughput, two workers >= 1.6x, a re-harvest of the unchanged tree with the
checkpoint >= 20x faster than the first harvest (at 100,000 files), and peak memory at 2N files
close to that at N (what grows is the file index, ~100 bytes a file). Trees are generated once
into /tmp/catalogue-bench (see bench/generate_export.py).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script from anywhere
from generate_export import generate

from catalogue.records import Checkpoint, Item
from harvesters.base import HarvestContext
from harvesters.dicom import deid
from harvesters.dicom.folder import DicomFolderConfig, DicomFolderHarvester

SECRET = "benchmark-secret-of-32-characters"  # noqa: S105 (generated data only)


def tags_read() -> list[int]:
    """Every attribute `Deidentifier.clean` looks at (beyond the PN values it screens with)."""
    profile = deid.load_profile()
    tags = {tag for rule in profile.allow for tag, _ in rule.sources}
    tags |= set(profile.reference_dates) | {deid.PATIENT_ID, deid.STUDY_UID, deid.SERIES_UID}
    tags |= {deid.PATIENT_SEX, deid.PATIENT_AGE, deid.BIRTH_DATE, deid.CONTRAST_AGENT}
    return sorted(tags | {deid.CONTRAST_AGENT_SEQUENCE, 0x00100010})  # + PatientName


def cpu_seconds() -> float:
    """CPU time of this process and its waited-for children (the harvest's worker processes)."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def baseline(files: list[str], tags: list[int], specific: bool = False) -> float:
    started = time.perf_counter()
    for path in files:
        ds = pydicom.dcmread(
            path, stop_before_pixels=True, specific_tags=tags if specific else None
        )
        for tag in tags:
            if tag in ds:
                ds[tag].value  # noqa: B018 (converting the value is part of the work)
    return time.perf_counter() - started


def harvester(root: Path, workers: int) -> DicomFolderHarvester:
    config = DicomFolderConfig(path=root, collection="bench", workers=workers)
    context = HarvestContext(source="bench", site="bench", pseudonym_secret=SecretStr(SECRET))
    return DicomFolderHarvester(config, context)


def harvest(root: Path, workers: int, since: Any = None) -> tuple[float, Any]:
    """Seconds to iterate the harvest to its end (items are dropped as a runner would, after
    writing them), and the cursor of its final checkpoint."""
    started = time.perf_counter()
    last: Item | None = None
    for last in harvester(root, workers).iter_records(since):  # noqa: B007
        pass
    assert isinstance(last, Checkpoint)
    return time.perf_counter() - started, last.cursor


def listing(root: Path) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [os.path.join(folder, n) for n in sorted(names) if not n.startswith(".")]
    return found


def _burn(n: int) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - started


def cores_available(workers: int) -> float:
    """How many cores' worth of CPU `workers` busy processes get now: on a shared machine,
    the ceiling for (c) is about this many times (b)."""
    n = 5_000_000
    alone = _burn(n)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        started = time.perf_counter()
        pool.map(_burn, [n] * workers)
        return workers * alone / (time.perf_counter() - started)


def timings(root: Path, runs: int, workers: int) -> dict[str, list[float]]:
    files, tags = listing(root), tags_read()
    baseline(files, tags)  # warm the page cache: every run reads from memory
    times: dict[str, list[float]] = {
        k: [] for k in ("base", "specific", "w1", "wN", "again", "cores", "cpu_base")
    }
    times |= {"cpu_w1": [], "cpu_wN": []}
    for _ in range(runs):
        times["cores"].append(cores_available(workers))
        cpu = cpu_seconds()
        times["base"].append(baseline(files, tags))
        times["cpu_base"].append(cpu_seconds() - cpu)
        times["specific"].append(baseline(files, tags, specific=True))
        cpu = cpu_seconds()
        times["w1"].append(harvest(root, 1)[0])
        times["cpu_w1"].append(cpu_seconds() - cpu)
        cpu = cpu_seconds()
        seconds, cursor = harvest(root, workers)
        times["cpu_wN"].append(cpu_seconds() - cpu)
        times["wN"].append(seconds)
        times["again"].append(harvest(root, workers, cursor)[0])
    return times


def report(files: int, workers: int, times: dict[str, list[float]]) -> None:
    med = {k: statistics.median(v) for k, v in times.items()}
    rate: Callable[[str], str] = lambda k: f"{files / med[k]:8.0f} files/s"  # noqa: E731
    print(f"{files} files, medians of {len(times['base'])} runs")
    print(f"    {workers} busy processes got {med['cores']:.2f} cores of CPU")
    print(f"(a) bare dcmread loop, 1 process    {med['base']:7.2f} s  {rate('base')}  1.00x")
    print(
        f"    ... with specific_tags          {med['specific']:7.2f} s  {rate('specific')}"
        f"  {med['base'] / med['specific']:.2f}x"
    )
    for key, label, target in (("w1", "1 worker ", 0.8), ("wN", f"{workers} workers", 1.6)):
        ratio = med["base"] / med[key]
        print(
            f"({'b' if key == 'w1' else 'c'}) harvest, {label}             {med[key]:7.2f} s"
            f"  {rate(key)}  {ratio:.2f}x  (target >= {target})"
        )
    print(
        f"    CPU time of all processes, (a) over (b): {med['cpu_base'] / med['cpu_w1']:.2f}x, "
        f"(a) over (c): {med['cpu_base'] / med['cpu_wN']:.2f}x  (what the wall-time ratios come "
        f"to on an idle machine: (b) that, (c) up to {workers} times that)"
    )
    print(
        f"(d) re-harvest with the checkpoint   {med['again']:7.2f} s  "
        f"{med['wN'] / med['again']:.1f}x faster than the {workers}-worker harvest, "
        f"{med['w1'] / med['again']:.1f}x than 1 worker  (target >= 20)"
    )


def probe(root: Path, workers: int, trace: bool) -> dict[str, Any]:
    """Run in a fresh process: memory of one harvest of `root`."""
    before = _status_kb("VmRSS")
    if trace:
        tracemalloc.start()
    seconds, cursor = harvest(root, workers)
    result = {  # before serialising the index, which takes ~400 B a file for a moment
        "rss_before_kb": before,
        "rss_peak_kb": _status_kb("VmHWM"),  # not ru_maxrss: Linux carries it over an exec
        "children_peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        "seconds": seconds,
    }
    if trace:
        result["traced_peak_kb"] = tracemalloc.get_traced_memory()[1] // 1024
    result["index_bytes"] = len(json.dumps(cursor))
    return result


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise LookupError(field)


def memory(files: int, workers: int, trace: bool) -> None:
    print(f"(e) memory of one harvest ({workers} worker(s)), each in a fresh process")
    rows = []
    for n in (files, 2 * files):
        root = generate(n)
        argv = [sys.executable, __file__, "--probe", str(root), "--workers", str(workers)]
        out = subprocess.run(argv + (["--trace"] if trace else []), capture_output=True, check=True)
        rows.append((n, json.loads(out.stdout)))
    for n, r in rows:
        growth = r["rss_peak_kb"] - r["rss_before_kb"]
        traced = f", traced peak {r['traced_peak_kb'] / 1024:.1f} MiB" if trace else ""
        print(
            f"    {n:7d} files: peak RSS {r['rss_peak_kb'] / 1024:6.1f} MiB "
            f"(+{growth / 1024:.1f} MiB over the imports){traced}, "
            f"index {r['index_bytes'] / n:.0f} B/file"
        )
    (n1, r1), (n2, r2) = rows
    extra = (r2["rss_peak_kb"] - r1["rss_peak_kb"]) * 1024 / (n2 - n1)
    print(
        f"    peak RSS 2N/N: {r2['rss_peak_kb'] / r1['rss_peak_kb']:.2f}; {extra:.0f} B/extra file"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-memory", action="store_true", help="skip the N vs 2N memory part")
    parser.add_argument("--trace", action="store_true", help="also tracemalloc (slow)")
    parser.add_argument("--probe", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.workers, args.trace)))
        return
    root = generate(args.files)
    report(args.files, args.workers, timings(root, args.runs, args.workers))
    if not args.no_memory:
        memory(args.files, 1, args.trace)


if __name__ == "__main__":
    main()
