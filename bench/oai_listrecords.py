"""OAI-PMH ListRecords benchmark: a full harvest through resumption tokens against a bare loop.

    .venv/bin/python -m bench.oai_listrecords                     # 1,000,000 records
    .venv/bin/python -m bench.oai_listrecords --records 100000    # quicker

(a) bare loop: one streaming SELECT of the same datasets (versions read per 1,000, as the
    provider does), each record built by the same element builder and serialised;
(b) the provider: `ListRecords` followed token by token to the end, every byte produced.
Prints records/second (median of `--runs`) as a ratio to (a), and the resident memory of (b) at
checkpoints through the harvest: flat means the page count does not matter. The catalogue is
generated once into `/tmp/catalogue-bench/oai-N.db` (SQLite) and reused.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from lxml import etree
from sqlmodel import Session, col, select

from catalogue.exports.oaipmh import OaiConfig, OaiProvider
from catalogue.exports.oaipmh.repository import records as load_records
from catalogue.exports.oaipmh.writer import record_element
from catalogue.exports.view import Node
from catalogue.models import Dataset, DatasetVersion
from catalogue.store import Store

BASE = "http://bench.example"
NODE = Node(BASE, "Benchmark node")
ROOT = Path("/tmp/catalogue-bench")  # noqa: S108 (benchmark data, regenerated at will)
TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]*)</resumptionToken>")


def meta(n: int) -> dict[str, Any]:
    return {
        "titles": [{"title": f"Imaging dataset {n}"}],
        "creators": [
            {
                "name": f"Researcher {n % 997}, Ada",
                "nameType": "Personal",
                "nameIdentifiers": [
                    {
                        "nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                        "nameIdentifierScheme": "ORCID",
                    }
                ],
                "affiliation": [{"name": f"Hospital {n % 31}"}],
            }
        ],
        "publisher": "Benchmark consortium",
        "publicationYear": 2000 + n % 26,
        "types": {"resourceTypeGeneral": "Dataset"},
        "subjects": [{"subject": "MR"}, {"subject": "brain"}],
        "descriptions": [
            {"description": f"Brain MR series of cohort {n}.", "descriptionType": "Abstract"}
        ],
        "rightsList": [{"rights": "CC BY 4.0", "rightsUri": "https://spdx.org/licenses/CC-BY-4.0"}],
    }


def generate(path: Path, count: int) -> None:
    """`count` findable datasets with one version each (1 in 100 hidden: a deleted record)."""
    store = Store(f"sqlite:///{path}", BASE)
    store.upgrade()
    start = datetime(2020, 1, 1, tzinfo=UTC)
    with store.engine.begin() as conn:
        for first in range(0, count, 10_000):
            datasets, versions = [], []
            for n in range(first, min(count, first + 10_000)):
                did, vid = uuid.uuid4(), uuid.uuid4()
                stamp = start + timedelta(seconds=n)
                datasets.append(
                    {"id": did, "iri": f"{BASE}/id/dataset/{did}", "created_at": stamp,
                     "updated_at": stamp, "slug": f"ds-{n}", "title": f"Imaging dataset {n}",
                     "description": "", "state": "hidden" if n % 100 == 99 else "findable",
                     "concept_doi": f"10.80001/ds-{n}", "meta": meta(n)}
                )  # fmt: skip
                versions.append(
                    {"id": vid, "iri": f"{BASE}/id/dataset_version/{vid}", "created_at": stamp,
                     "updated_at": stamp, "dataset_id": did, "version": "1.0",
                     "doi": f"10.80001/ds-{n}.v1", "state": "findable", "published_at": stamp,
                     "meta": meta(n), "members": [], "harvest_runs": []}
                )  # fmt: skip
            conn.execute(sa.insert(Dataset.__table__), datasets)  # type: ignore[attr-defined]
            conn.execute(sa.insert(DatasetVersion.__table__), versions)  # type: ignore[attr-defined]
    store.dispose()


def bare(store: Store, prefix: str) -> int:
    """(a) The same rows in one streaming SELECT, the same element builder, nothing else."""
    sent = 0
    with Session(store.engine) as session:
        rows = session.exec(
            select(Dataset).order_by(col(Dataset.id)).execution_options(yield_per=1000)
        )
        for chunk in rows.partitions(1000):
            for record in load_records(session, NODE, chunk):
                etree.tostring(record_element(record, str(record.view.dataset_id), prefix))
                sent += 1
    return sent


def harvest(provider: OaiProvider, prefix: str, checkpoints: dict[int, float]) -> int:
    """(b) ListRecords to the end through resumption tokens; RSS (MiB) noted at checkpoints."""
    query = [("verb", "ListRecords"), ("metadataPrefix", prefix)]
    sent = 0
    while True:
        body = b"".join(provider.respond(query))
        sent += body.count(b"<record")
        for mark in checkpoints:
            if sent >= mark and not checkpoints[mark]:
                checkpoints[mark] = _rss_mib()
        found = TOKEN.search(body)
        if not found or not found.group(1):
            return sent
        query = [("verb", "ListRecords"), ("resumptionToken", found.group(1).decode())]


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--prefix", default="oai_dc", choices=["oai_dc", "oai_datacite"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ROOT.mkdir(parents=True, exist_ok=True)
    path = ROOT / f"oai-{args.records}.db"
    if not path.exists():
        started = time.perf_counter()
        generate(path, args.records)
        print(f"generated {args.records:,} datasets in {time.perf_counter() - started:.0f} s")
    store = Store(f"sqlite:///{path}", BASE)
    config = OaiConfig(f"{BASE}/oai", NODE.name, "curators@bench.example", args.page_size)
    provider = OaiProvider(store, NODE, config)
    rates: dict[str, list[float]] = {"bare": [], "provider": []}
    marks = [args.records // 100, args.records // 10, args.records // 2, args.records]
    memory: dict[int, float] = {}
    for _ in range(args.runs):
        started = time.perf_counter()
        sent = bare(store, args.prefix)
        rates["bare"].append(sent / (time.perf_counter() - started))
        memory = dict.fromkeys(marks, 0.0)
        started = time.perf_counter()
        sent = harvest(provider, args.prefix, memory)
        rates["provider"].append(sent / (time.perf_counter() - started))
        assert sent == args.records, (sent, args.records)
    _report(args, rates, memory)


def _report(
    args: argparse.Namespace, rates: dict[str, list[float]], memory: dict[int, float]
) -> None:
    base = statistics.median(rates["bare"])
    ours = statistics.median(rates["provider"])
    print(f"ListRecords {args.prefix}, {args.records:,} records, pages of {args.page_size}, "
          f"median of {args.runs}")  # fmt: skip
    print(f"(a) bare SELECT + element builder: {base:,.0f} records/s  1.00x")
    print(f"(b) provider through tokens:       {ours:,.0f} records/s  {ours / base:.2f}x")
    print(
        "(b) resident memory at: "
        + ", ".join(f"{k:,} records {v:.0f} MiB" for k, v in memory.items())
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
