"""Benchmark: the XNAT harvester against a bare loop over the same REST pages, same server.

The site is generated (full size: 200 projects, 20,000 image sessions, 200,000 scans; `--scale`
shrinks it) and served by the XNAT contract server of the tests, in its own process. The bare
loop is the least a client must do to get the same information: log in, page through the
projects, each project's accessibility, subjects and experiments, then each session's scan
listing (and, with `--detail xml`, its experiment document, parsed with lxml), `concurrency`
sessions at a time like the harvester, decoding nothing but JSON (and XML). The harvester does
that plus sorting sessions by change time, pseudonyms, mapping and records. "Harvest" means
iterating `iter_records` to the end (the runner's database writes are not in it). Throughput is
scans per second; the target ratio is >= 0.8. Each line also gives the client's CPU time a scan
(all its threads): on a busy machine the wall-clock ratio follows it.

    .venv/bin/python bench/xnat_harvest.py --scale 0.1   # 20 projects, 2,000 sessions
    .venv/bin/python bench/xnat_harvest.py               # full size
    .venv/bin/python bench/xnat_harvest.py --scale 0.1 --detail both   # and with XML

Then peak memory (VmHWM) of a harvest of the first half of the projects and of all of them,
each in a fresh process: what grows is the session list the walk sorts (~1 KB a session).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from catalogue.records import SeriesRecord  # noqa: E402
from harvesters.base import HarvestContext  # noqa: E402
from harvesters.xnat.harvester import (  # noqa: E402
    EXPERIMENT_COLUMNS,
    SUBJECT_COLUMNS,
    XnatConfig,
    XnatHarvester,
)

SECRET = "benchmark-secret-of-32-characters"  # noqa: S105 (generated data only)
LOGIN = ("harvester", "harvester-password")
PAGE = 1000


def harvest(url: str, detail: str, concurrency: int, projects: tuple[str, ...] = ()) -> int:
    config = XnatConfig(
        url=url,
        username=LOGIN[0],
        password=SecretStr(LOGIN[1]),
        scan_detail=detail,  # type: ignore[arg-type]
        concurrency=concurrency,
        page_size=PAGE,
        projects=projects,
    )
    context = HarvestContext("bench", "local", pseudonym_secret=SecretStr(SECRET))
    harvester = XnatHarvester(config, context)
    scans = sum(isinstance(item, SeriesRecord) for item in harvester.iter_records(None))
    if context.report.failures:
        sys.exit(f"the harvest reported failures: {context.report.failures[:3]}")
    return scans


def bare(url: str, detail: str, concurrency: int) -> int:
    with httpx.Client(base_url=url, timeout=60) as http:
        session = http.post("/data/JSESSION", auth=LOGIN).text
        http.cookies.set("JSESSIONID", session)
        sessions: list[str] = []
        for project in pages(http, "/data/projects", {}):
            base = f"/data/projects/{project['ID']}"
            http.get(f"{base}/accessibility").raise_for_status()
            for _subject in pages(http, f"{base}/subjects", {"columns": SUBJECT_COLUMNS}):
                pass
            query = {"columns": EXPERIMENT_COLUMNS}
            sessions += [e["ID"] for e in pages(http, f"{base}/experiments", query)]

        def fetch(experiment: str) -> int:
            scans = http.get(f"/data/experiments/{experiment}/scans", params={"format": "json"})
            found = len(scans.json()["ResultSet"]["Result"])
            if detail != "listing":
                document = http.get(f"/data/experiments/{experiment}", params={"format": "xml"})
                etree.fromstring(document.content)
            return found

        with ThreadPoolExecutor(concurrency) as pool:
            total = sum(pool.map(fetch, sessions))
        http.delete("/data/JSESSION")
    return total


def pages(http: httpx.Client, path: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        params = {**query, "format": "json", "limit": PAGE, "offset": offset}
        rows = http.get(path, params=params).json()["ResultSet"]["Result"]
        yield from rows
        offset += len(rows)
        if len(rows) < PAGE:
            return


Timing = tuple[float, float, int]


def timed(run: Callable[[], int]) -> Timing:
    """(wall seconds, CPU seconds of this process, scans)."""
    started, cpu = time.perf_counter(), time.process_time()
    scans = run()
    return time.perf_counter() - started, time.process_time() - cpu, scans


def report(ours: list[Timing], theirs: list[Timing], setup: str) -> None:
    counts = {n for _, _, n in ours + theirs}
    if len(counts) != 1:
        sys.exit(f"the two loops saw different scan counts: {sorted(counts)}")
    n = counts.pop()
    ours_rate = n / statistics.median(t for t, _, _ in ours)
    bare_rate = n / statistics.median(t for t, _, _ in theirs)
    ours_cpu = statistics.median(c for _, c, _ in ours) / n * 1e6
    bare_cpu = statistics.median(c for _, c, _ in theirs) / n * 1e6
    print(f"scans per run: {n} ({setup}, {len(ours)} runs, medians)")
    print(f"  harvester : {ours_rate:8.0f} scans/s   {ours_cpu:6.0f} us CPU a scan (client)")
    print(f"  bare loop : {bare_rate:8.0f} scans/s   {bare_cpu:6.0f} us CPU a scan (client)")
    print(f"  ratio     : {ours_rate / bare_rate:8.2f}  (target >= 0.8)")


def peak_rss_mib(url: str, detail: str, concurrency: int, projects: int) -> tuple[float, float]:
    """Peak RSS (VmHWM: getrusage's maximum would include this process's, inherited through
    fork) of a fresh process once its modules are imported, and after a harvest of the first
    `projects` projects."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from bench.xnat_harvest import harvest, high_water; "
        "print(high_water()); "
        f"harvest({url!r}, {detail!r}, {concurrency}, "
        f"tuple(f'GEN{{p:04d}}' for p in range({projects}))); "
        "print(high_water())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True
    )
    before, after = (int(kib) / 1024 for kib in done.stdout.split()[-2:])
    return before, after


def high_water() -> int:
    """This process's peak resident set, in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="the harvester's setting")
    parser.add_argument("--detail", choices=["listing", "xml", "both"], default="listing")
    args = parser.parse_args()
    projects = max(1, round(200 * args.scale))
    sessions, scans = round(20_000 * args.scale), round(200_000 * args.scale)
    server = subprocess.Popen(
        [sys.executable, "-m", "api.demo.xnat_server", "--projects", str(projects),
         "--sessions", str(sessions), "--scans", str(scans)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"site: {projects} projects, {sessions} sessions, {scans} scans at {url}")
        print(f"machine: {os.cpu_count()} CPUs, load average {load}")
        for detail in ("listing", "xml") if args.detail == "both" else (args.detail,):
            ours, theirs = [], []
            for _ in range(args.runs):  # alternate, so drift hits both alike
                ours.append(timed(lambda d=detail: harvest(url, d, args.concurrency)))
                theirs.append(timed(lambda d=detail: bare(url, d, args.concurrency)))
            setup = f"scan_detail={detail}, concurrency={args.concurrency}"
            report(ours, theirs, setup)
        for share in (max(1, projects // 2), projects):
            before, after = peak_rss_mib(url, detail, args.concurrency, share)
            print(f"peak RSS, {share} projects: {after:.0f} MiB ({before:.0f} MiB after imports)")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
