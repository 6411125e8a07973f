"""GraphQL search benchmark: a typical search through GraphQL over HTTP (a real `catalogue serve`
on the loopback) against the same `SearchService.search` call made in-process, on the same
generated catalogue (embedded backend, SQLite).

    .venv/bin/python -m bench.graphql_search                       # 5,000 subjects, 300 requests
    .venv/bin/python -m bench.graphql_search --subjects 20000 --requests 1000 --clients 4

Prints p50 / p95 latency of each path, their ratio (GraphQL over HTTP / in-process), and
requests per second: sequential for both, and with `--clients` concurrent HTTP clients. The
request loops are bounded in count; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.catalogue_generator import generate, load
from catalogue.access import ANONYMOUS
from catalogue.search import Indexer, SearchService, backend_from_settings
from catalogue.settings import Settings
from catalogue.store import Store

SEQ = "https://w3id.org/imaging-catalogue/sequence/"
# subjects with a FLAIR at 3 T, one page of 20 with a facet: what the cohort builder asks first
SERVICE_QUERY: dict[str, Any] = {
    "kind": "subjects",
    "filter": {
        "op": "has_series",
        "where": {
            "op": "and",
            "all": [
                {"op": "concept", "field": "sequence_type", "iri": SEQ + "FLAIR"},
                {"op": "range", "field": "field_strength_t", "gte": 2.9, "lte": 3.1},
            ],
        },
    },
    "facets": [{"type": "terms", "field": "sex"}],
    "size": 20,
}
GRAPHQL = (
    """query Typical {
  search(query: {kind: SUBJECTS,
                 filter: {hasSeries: {and: [
                   {concept: {field: "sequence_type", iri: "SEQFLAIR"}},
                   {range: {field: "field_strength_t", gte: 2.9, lte: 3.1}}]}},
                 facets: [{terms: {field: "sex"}}]},
         first: 20) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor score node { ... on Subject { id } } }
    facets { field buckets { value count { value display } } } } }"""
).replace("SEQ", SEQ)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data_dir: Path, subjects: int) -> Settings:
    settings = Settings(data_dir=data_dir)
    store = Store(settings.store_url, settings.base_iri)
    store.upgrade()
    load(store, generate(subjects=subjects))
    backend = backend_from_settings(settings)
    Indexer(store, backend).rebuild()
    backend.close()
    store.dispose()
    return settings


def serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    command = Path(sys.executable).with_name("catalogue")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")}
    env["CATALOGUE_RATE_LIMIT_PER_MINUTE"] = "0"  # a benchmark client is not a person
    if "rate_limit_per_minute" not in Settings.model_fields:
        del env["CATALOGUE_RATE_LIMIT_PER_MINUTE"]
    server = subprocess.Popen(
        [str(command), "--data-dir", str(settings.data_dir), "serve", "--port", str(port)],
        env={**env, "CATALOGUE_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the node did not start")


def timed(call: Callable[[], Any], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="graphql-bench-") as tmp:
        settings = prepare(Path(tmp) / "var", args.subjects)
        store = Store(settings.store_url, settings.base_iri)
        backend = backend_from_settings(settings)
        service = SearchService(store, backend, settings.suppression_threshold)
        expected = service.search(ANONYMOUS, SERVICE_QUERY)
        port = _free_port()
        server = serve(settings, port)
        url = f"http://127.0.0.1:{port}/graphql"
        try:
            with httpx.Client(timeout=30) as http:

                def over_http() -> None:
                    response = http.post(url, json={"query": GRAPHQL})
                    body = response.json()
                    assert "errors" not in body, body
                    assert body["data"]["search"]["totalCount"] == expected.total

                timed(over_http, 20)  # warm-up: connections, caches
                timed(lambda: service.search(ANONYMOUS, SERVICE_QUERY), 20)
                direct = timed(lambda: service.search(ANONYMOUS, SERVICE_QUERY), args.requests)
                graphql = timed(over_http, args.requests)
            concurrent = _concurrent(url, args.requests, args.clients, expected.total)
        finally:
            server.terminate()
            server.wait(timeout=30)
            backend.close()
            store.dispose()
    _report(args, expected.total, direct, graphql, concurrent)


def _concurrent(url: str, requests: int, clients: int, total: int) -> float:
    """Requests per second with `clients` HTTP clients sending `requests` in all."""

    def worker(n: int) -> None:
        with httpx.Client(timeout=30) as http:
            for _ in range(n):
                body = http.post(url, json={"query": GRAPHQL}).json()
                assert body["data"]["search"]["totalCount"] == total

    share = [requests // clients + (1 if i < requests % clients else 0) for i in range(clients)]
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, share))
    return requests / (time.perf_counter() - start)


def _report(
    args: argparse.Namespace, hits: int, direct: list[float], graphql: list[float], rps: float
) -> None:
    d50, d95 = statistics.median(direct), p95(direct)
    g50, g95 = statistics.median(graphql), p95(graphql)
    print(f"catalogue: {args.subjects} subjects (embedded backend); the search matches {hits}")
    print(f"machine: {os.cpu_count()} cores; {args.requests} requests per path")
    print(f"{'path':<38}{'p50 ms':>10}{'p95 ms':>10}{'req/s':>10}")
    _row("in-process SearchService.search", d50, d95, 1 / statistics.mean(direct))
    _row("GraphQL over HTTP, 1 client", g50, g95, 1 / statistics.mean(graphql))
    _row(f"GraphQL over HTTP, {args.clients} clients", None, None, rps)
    print(f"ratio GraphQL/in-process: p50 {g50 / d50:.2f}x, p95 {g95 / d95:.2f}x")


def _row(name: str, p50: float | None, p95_: float | None, rps: float) -> None:
    cells = "".join(f"{v * 1e3:>10.2f}" if v is not None else " " * 10 for v in (p50, p95_))
    print(f"{name:<38}{cells}{rps:>10.1f}")


if __name__ == "__main__":
    main()
