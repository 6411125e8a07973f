"""OAI-PMH harvester benchmark: a partner's ListRecords, token by token, against a bare loop.

    .venv/bin/python bench/oai_harvest.py                      # 20,000 records, 3 runs
    .venv/bin/python bench/oai_harvest.py --records 100000

The contract repository of the tests serves `--records` oai_datacite records (DataCite's real
record, renumbered) in pages of `--page` on loopback; pages are rendered once, before timing.
(a) bare loop: the same requests with httpx, each page parsed with lxml, every record's
    identifier and title read, the resumption token followed;
(b) `OaiPmhHarvester.iter_records` to the end: the same requests through the retrying fetcher,
    the XML guard, and the full DataCite mapping into dataset records.
Prints records/second (median of `--runs`) and (b) as a ratio to (a).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import httpx
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from catalogue.records import DatasetRecord  # noqa: E402
from harvesters.base import HarvestContext  # noqa: E402
from harvesters.oaipmh.harvester import OaiPmhConfig, OaiPmhHarvester  # noqa: E402
from tests.harvesters.oai_repository import (  # noqa: E402
    OAI,
    VIRINGO,
    OaiRepository,
    datacite_record,
)
from tests.harvesters.partner_server import Reply, serving  # noqa: E402

NS = {"oai": OAI}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def rendered_pages(records: int, page: int) -> dict[str, bytes]:
    """ListRecords answers by resumption token ("" for the first page), rendered once."""
    repository = OaiRepository()
    pages: dict[str, bytes] = {}
    starts = range(0, records, page)
    for index, start in enumerate(starts):
        chunk = [
            datacite_record(n + 1, f"2020-01-01T00:00:{n % 60:02d}Z")
            for n in range(start, min(start + page, records))
        ]
        token = f"page-{index + 1}" if index + 1 < len(starts) else ""
        pages["" if index == 0 else f"page-{index}"] = repository._envelope(chunk, token)
    return pages


def route(pages: dict[str, bytes]) -> OaiRepository:
    identify = (VIRINGO / "oai_identify.xml").read_bytes()
    formats = (VIRINGO / "oai_listmetadataformats.xml").read_bytes()

    def answer(_path: str, params: dict[str, str]) -> Reply:
        verb = params.get("verb")
        if verb == "Identify":
            return Reply(body=identify)
        if verb == "ListMetadataFormats":
            return Reply(body=formats)
        return Reply(body=pages[params.get("resumptionToken", "")])

    return answer  # type: ignore[return-value]


def bare(url: str) -> int:
    seen = 0
    with httpx.Client(timeout=60) as http:
        http.get(url, params={"verb": "Identify"})
        http.get(url, params={"verb": "ListMetadataFormats"})
        params = {"verb": "ListRecords", "metadataPrefix": "oai_datacite"}
        while True:
            root = etree.fromstring(http.get(url, params=params).content, PARSER)
            for record in root.iterfind("oai:ListRecords/oai:record", NS):
                identifier = record.findtext("oai:header/oai:identifier", namespaces=NS)
                title = next(record.iter("{http://datacite.org/schema/kernel-4}title")).text
                seen += bool(identifier and title)
            token = root.findtext("oai:ListRecords/oai:resumptionToken", namespaces=NS)
            if not token:
                return seen
            params = {"verb": "ListRecords", "resumptionToken": token}


def harvester(url: str) -> int:
    config = OaiPmhConfig(url=url, metadata_prefix="oai_datacite")
    h = OaiPmhHarvester(config, HarvestContext(source="bench", site="bench"))
    return sum(isinstance(i, DatasetRecord) for i in h.iter_records(None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--page", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pages = rendered_pages(args.records, args.page)
    with serving(route(pages)) as server:
        url = f"{server.url}/oai"
        rates: dict[str, list[float]] = {"bare": [], "harvester": []}
        for _ in range(args.runs):
            for name, walk in (("bare", bare), ("harvester", harvester)):
                started = time.perf_counter()
                count = walk(url)
                elapsed = time.perf_counter() - started
                assert count == args.records, f"{name} saw {count} of {args.records} records"
                rates[name].append(count / elapsed)
    base = statistics.median(rates["bare"])
    ours = statistics.median(rates["harvester"])
    print(f"OAI-PMH harvest of {args.records:,} records, {len(pages)} pages, {args.runs} runs")
    print(f"(a) bare loop (httpx + lxml)       {base:10,.0f} records/s   1.00x")
    print(f"(b) OaiPmhHarvester.iter_records   {ours:10,.0f} records/s   {ours / base:.2f}x")


if __name__ == "__main__":
    main()
