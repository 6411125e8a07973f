"""The node's fixed cost per cohort call: `SearchService.cohort` against the same aggregate sent
straight to Elasticsearch with the client (`bench.search.raw_call`, the baseline), over the mix
of 20 queries of `bench.search`, on a small catalogue where the engine is fast and a fixed cost
shows most.

    .venv/bin/python -m bench.search_overhead                  # 2,000 subjects, the test server
    .venv/bin/python -m bench.search_overhead --subjects 10000 --repeat 30 --es-url URL

Prints node and engine p50 over every timed call, their ratio, the node's extra time per call
(node minus engine per query, median over the mix), and where that time goes: each stage of the
call timed alone (best of 7 runs), median over the mix. Each index is dropped afterwards.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import tempfile
import timeit
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.search import MIX, drop_indices, make_catalogue, percentiles, raw_call, timed
from catalogue.access import ANONYMOUS
from catalogue.search._summary import Layout
from catalogue.search.backend import AggregateRequest
from catalogue.search.elasticsearch import ElasticsearchBackend
from catalogue.search.indexer import Indexer
from catalogue.search.query import validate_query
from catalogue.search.service import SearchService, summarise
from catalogue.search.suppression import Access
from catalogue.store import Store


def best_ms(call: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(call, number=number, repeat=7)) / number * 1e3


def interleaved(service: SearchService, repeat: int) -> dict[str, float]:
    """Node and engine timed alternately, so both see the same machine."""
    gc.collect()  # then freeze what set-up built, as `catalogue serve` does (api/cli.py)
    gc.freeze()
    node, engine, extra = [], [], []
    for query in MIX:
        raw = raw_call(service.backend, service, query)
        service.cohort(ANONYMOUS, query), raw()  # warm both paths
        ns, es = [], []
        for _ in range(repeat):
            ns.append(timed(lambda q=query: service.cohort(ANONYMOUS, q))[0])
            es.append(timed(raw)[0])
        node += ns
        engine += es
        extra.append(statistics.median(ns) - statistics.median(es))
    (n50, _), (e50, _) = percentiles(node), percentiles(engine)
    return {"node_p50_ms": n50 * 1e3, "engine_p50_ms": e50 * 1e3, "ratio_p50": n50 / e50,
            "node_minus_engine_ms": statistics.median(extra) * 1e3}  # fmt: skip


def stages(service: SearchService, backend: ElasticsearchBackend) -> dict[str, float]:
    """Each part of the node's work alone, median over the mix."""
    parts: dict[str, list[float]] = {}
    for query in MIX:
        for name, ms in stages_of(service, backend, query).items():
            parts.setdefault(name, []).append(ms)
    return {f"{name}_ms": statistics.median(values) for name, values in parts.items()}


def stages_of(
    service: SearchService, backend: ElasticsearchBackend, query: dict[str, Any]
) -> dict[str, float]:
    colls = [c for c in service.collections(ANONYMOUS) if c.access is not Access.NONE]
    layout = Layout.of(colls)
    scope = service._scope(ANONYMOUS, colls, {Access.RECORDS, Access.COUNTS})
    q = validate_query(query)
    sums = ("study_count", "series_count")
    request = AggregateRequest("subjects", q.text, q.filter, scope, tuple(q.facets), True, sums)
    body = backend.aggregate_body(request)
    aggs = backend.aggregate(request)
    client = best_ms(lambda: backend.client.search(index=backend.alias("subjects"), **body), 10)
    return {
        "validate_query": best_ms(lambda: validate_query(query), 100),
        "collections (access)": best_ms(lambda: service.collections(ANONYMOUS), 100),
        "aggregate body + parse": best_ms(lambda: backend.aggregate(request), 10) - client,
        "summarise": best_ms(lambda: summarise(aggs, layout, q.facets, service.policy, ""), 50),
        "audit entry": best_ms(
            lambda: service.audit.record(ANONYMOUS, "cohort", query, ["bench"], 1), 20
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15, help="timed calls of each query")
    parser.add_argument("--es-url", default=os.environ.get("CATALOGUE_TEST_ELASTICSEARCH_URL"))
    args = parser.parse_args()
    if not args.es_url:
        raise SystemExit("no Elasticsearch: pass --es-url or run `deploy/local/services start`")
    work = Path(tempfile.mkdtemp(prefix="bench-search-overhead-"))
    print(f"machine: {os.cpu_count()} cores; work dir {work}")
    store = Store(f"sqlite:///{work / 'catalogue.db'}", "http://bench.test")
    report: dict[str, Any] = {"cores": os.cpu_count()}
    store.upgrade()
    report["catalogue"] = make_catalogue(store, args.subjects, 10)
    backend = ElasticsearchBackend(args.es_url, prefix=f"bench-{uuid.uuid4().hex[:6]}")
    try:
        Indexer(store, backend).rebuild()
        service = SearchService(store, backend, 5)
        report |= interleaved(service, args.repeat)
        report["stages"] = stages(service, backend)
    finally:
        drop_indices(backend)
        backend.close()
        store.dispose()
        shutil.rmtree(work)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
