"""Benchmark: federation between real nodes on loopback.

1. Peer harvest: a site node serves its change feed; the `peer` harvester walks it to the end
   (`iter_records`: fetch, parse, build records; the hub's database writes are not in it) vs a
   bare loop that pages through the same feed with httpx and parses the JSON. Target >= 0.8.
2. Fan-out: a hub asks three count-only sites live for a cohort (GraphQL over HTTP) vs the
   slowest of the same three sites asked directly. Target <= 1.2.

    .venv/bin/python bench/federation.py                   # 20,000 series
    .venv/bin/python bench/federation.py --series 1000000  # the issue's size (a long load)

Every node is a `catalogue serve` process with its own SQLite database; the three sites are
copies of one generated site. On two cores the hub and three sites share the CPU: the fan-out
ratio includes that contention.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import yaml
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from catalogue.records import (  # noqa: E402
    CollectionRecord,
    Cursor,
    Item,
    SeriesRecord,
    StudyRecord,
    SubjectRecord,
)
from catalogue.services.ingest import IngestService  # noqa: E402
from catalogue.sources import SourceSpec  # noqa: E402
from catalogue.store import Store  # noqa: E402
from harvesters.base import HarvestContext, Harvester, HarvesterConfig  # noqa: E402
from harvesters.peer import CHANGES, PeerConfig, PeerHarvester  # noqa: E402
from harvesters.runner import Runner  # noqa: E402

CATALOGUE = str(Path(sys.executable).with_name("catalogue"))
PAGE = 1000
COHORT = """
query { cohort(query: {filter: {hasSeries: {term: {field: "modality", value: "MR"}}}}) {
  subjects { value } partial siteStatus { slug origin } } }
"""


class GeneratedConfig(HarvesterConfig):
    series: int


class Generated(Harvester[GeneratedConfig]):
    """A site: 10 series a study, 2 studies a subject, 4 collections."""

    name = "generated"
    Config = GeneratedConfig
    complete_walks: ClassVar[bool] = False

    def check_connection(self) -> None:
        pass

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        for c in range(4):
            yield CollectionRecord(native_id=f"c{c}", title=f"Collection {c}")
        for n in range(self.config.series):
            study, subject, collection = n // 10, n // 20, (n // 20) % 4
            ids = {"collection": f"c{collection}"}
            if n % 20 == 0:
                yield SubjectRecord(native_id=f"s{subject}", sex="female", **ids)
            if n % 10 == 0:
                yield StudyRecord(native_id=f"st{study}", subject=f"s{subject}", year=2020, **ids)
            yield SeriesRecord(
                native_id=f"se{n}",
                subject=f"s{subject}",
                study=f"st{study}",
                modality="MR" if n % 3 else "CT",
                series_description=("t1_mprage", "flair", "dwi")[n % 3],
                field_strength_t=3.0,
                instance_count=100 + n % 50,
                year=2020,
                cursor=n,
                **ids,
            )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    def __init__(self, root: Path, site: str) -> None:
        self.root, self.port = root, free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")}
        self.env |= {
            "CATALOGUE_DATA_DIR": str(root / "var"),
            "CATALOGUE_SITE_SLUG": site,
            "CATALOGUE_BASE_URL": f"https://{site}.example.org",
            "CATALOGUE_RATE_LIMIT_PER_MINUTE": "0",
            "CATALOGUE_LOG_LEVEL": "WARNING",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def key(self, client: str) -> str:
        out = subprocess.run(
            [CATALOGUE, "keys", "create", client],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return next(w for w in out.split() if w.startswith("cat_"))

    def start(self, sources: list[dict[str, Any]] | None = None) -> None:
        if sources is not None:
            path = self.root / "sources.yaml"
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump({"sources": sources}))
            self.env["CATALOGUE_SOURCES_FILE"] = str(path)
        self.process = subprocess.Popen(
            [CATALOGUE, "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        raise SystemExit(f"node on port {self.port} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def load_site(root: Path, series: int) -> None:
    (root / "var").mkdir(parents=True)
    store = Store(f"sqlite:///{root / 'var' / 'catalogue.db'}", "https://site-1.example.org")
    store.upgrade()
    store.ensure_site("site-1", "Site 1")
    runner = Runner(
        IngestService(store), "site-1", pseudonym_secret=None, kinds={"generated": Generated}
    )
    started = time.perf_counter()
    run = runner.run(SourceSpec(name="gen", kind="generated", options={"series": series}))
    store.dispose()
    print(f"loaded site: {run.added} records in {time.perf_counter() - started:.1f} s")


def bare_walk(url: str, key: str) -> int:
    changes, after = 0, None
    with httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        while True:
            variables = {"after": after, "first": PAGE}
            page = client.post(url, json={"query": CHANGES, "variables": variables}).json()
            feed = page["data"]["changes"]
            changes += len(feed["changes"])
            after = feed["endCursor"]
            if not feed["hasNextPage"]:
                return changes


def peer_walk(url: str, key: str) -> int:
    config = PeerConfig(url=url, api_key=SecretStr(key), page_size=PAGE)  # type: ignore[arg-type]
    context = HarvestContext(source="bench", site="hub", pseudonym_secret=None)
    return sum(1 for _ in PeerHarvester(config, context).iter_records(None))


def timed(call: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call(*args)
    return time.perf_counter() - started, result


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def ask(url: str, key: str | None) -> float:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    started = time.perf_counter()
    answer = httpx.post(url, json={"query": COHORT}, headers=headers, timeout=60).json()
    assert "errors" not in answer, answer
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="catalogue-bench-federation-"))
    print(f"machine: {os.cpu_count()} cores; work dir {work}")
    load_site(work / "site-1", args.series)
    for n in (2, 3):
        shutil.copytree(work / "site-1", work / f"site-{n}")
    sites = [Node(work / f"site-{n}", f"site-{n}") for n in (1, 2, 3)]
    keys = [s.key("hub") for s in sites]
    hub = Node(work / "hub", "hub")
    try:
        for s in sites:
            s.start()
        bare, ours = [], []
        for _ in range(args.rounds):
            seconds, count = timed(bare_walk, sites[0].url, keys[0])
            bare.append(seconds)
            seconds, records = timed(peer_walk, sites[0].url, keys[0])
            ours.append(seconds)
        print(
            f"peer harvest of {records} records ({count} changes): bare {p50(bare):.2f} s, "
            f"peer {p50(ours):.2f} s, ratio {p50(bare) / p50(ours):.2f} (target >= 0.8)"
        )
        live = [
            {"name": f"site-{n}", "kind": "peer", "site": f"site-{n}", "url": s.url}
            | {"api_key": k, "live_counts": True, "live_timeout_s": 30}
            for n, (s, k) in enumerate(zip(sites, keys, strict=True), start=1)
        ]
        hub.start(live)
        ask(hub.url, None)  # warm up every path once
        direct = {
            s.url: [ask(s.url, k) for _ in range(args.requests)]
            for s, k in zip(sites, keys, strict=True)
        }
        fanned = [ask(hub.url, None) for _ in range(args.requests)]
        slowest = max(p50(v) for v in direct.values())
        print(
            f"fan-out cohort, 3 sites: hub p50 {p50(fanned) * 1000:.0f} ms, slowest site p50 "
            f"{slowest * 1000:.0f} ms, ratio {p50(fanned) / slowest:.2f} (target <= 1.2)"
        )
    finally:
        for node in (*sites, hub):
            node.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
