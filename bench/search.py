"""Search benchmark: indexing throughput against a bare `helpers.bulk`, and a fixed mix of 20
cohort queries per backend (p50 / p95), each also sent straight to its engine to measure the
node's overhead.

    .venv/bin/python -m bench.search --subjects 100000 --private-es   # the issue's scale
    .venv/bin/python -m bench.search --subjects 5000 --es-url http://127.0.0.1:9200  # quick

Without `--es-url` or `--private-es` only the embedded backend is measured. `--private-es`
starts an Elasticsearch of its own (1 GB heap, free ports) from the distribution
`deploy/local/services` installed, so the shared test server is not loaded with a million docs.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from elasticsearch import helpers

from bench.catalogue_generator import generate, load
from catalogue.access import ANONYMOUS
from catalogue.search import _es_query as dsl
from catalogue.search.backend import AggregateRequest, IndexWriter, SearchBackend
from catalogue.search.documents import Document, dump_all
from catalogue.search.elasticsearch import ElasticsearchBackend
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.fields import KINDS
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService
from catalogue.store import Store

SEQ = "https://w3id.org/imaging-catalogue/sequence/"
ICD = "http://purl.bioontology.org/ontology/ICD10/"
HEAD = "http://snomed.info/id/69536005"
AGE = {"field": "age_years", "interval": 10, "min": 0, "max": 100}
TESLA = {"field": "field_strength_t", "interval": 1, "min": 0, "max": 8}
SEX, DIAGNOSES = {"field": "sex"}, {"field": "diagnosis_closure"}


def _t(field: str, value: Any) -> dict[str, Any]:
    return {"op": "term", "field": field, "value": value}


def _c(field: str, iri: str) -> dict[str, Any]:
    return {"op": "concept", "field": field, "iri": iri}


def _s(*fs: dict[str, Any]) -> dict[str, Any]:
    return {"op": "has_series", "where": {"op": "and", "all": list(fs)} if len(fs) > 1 else fs[0]}


def _and(*fs: dict[str, Any]) -> dict[str, Any]:
    return {"op": "and", "all": list(fs)}


FLAIR_3T = _s(
    _c("sequence_type", SEQ + "FLAIR"),
    {"op": "range", "field": "field_strength_t", "gte": 2.9, "lte": 3.1},
)
T1_POST = _s(_c("sequence_type", SEQ + "T1w"), _t("contrast_agent", True))
AGED = {"op": "has_study", "where": {"op": "range", "field": "age_years", "gte": 20, "lte": 50}}
SAME_STUDY = {"op": "has_study", "where": _and(_s(_t("modality", "MR")), _s(_t("modality", "CT")))}
MIX: list[dict[str, Any]] = [
    {"facets": [{"field": "sex"}]},
    {"facets": [{"field": "modality"}]},
    {"filter": _t("sex", "female"), "facets": [{"field": "diagnosis_closure"}]},
    {"filter": {"op": "range", "field": "birth_year", "gte": 1950, "lt": 1970}},
    {"filter": _c("diagnosis", ICD + "G35")},
    {"filter": _c("diagnosis", ICD + "VI"), "facets": [{"field": "diagnosis"}]},
    {"filter": _s(_t("modality", "MR"))},
    {"filter": _s(_c("body_part", HEAD)), "facets": [{"field": "body_part"}]},
    {"filter": FLAIR_3T},
    {"filter": _and(FLAIR_3T, T1_POST)},
    {"filter": _and(FLAIR_3T, T1_POST, _c("diagnosis", ICD + "G35"), AGED)},
    {"filter": _and(AGED, _s(_c("sequence_type", SEQ + "dwi")))},
    {"filter": SAME_STUDY},
    {"text": "flair"},
    {"text": "brain", "filter": _t("group", "patient")},
    {"filter": {"op": "or", "any": [_c("diagnosis", ICD + "G35"), _c("diagnosis", ICD + "G40")]}},
    {"filter": {"op": "not", "filter": _s(_t("modality", "CT"))}, "facets": [{"field": "sex"}]},
    {"filter": _c("species", "http://purl.obolibrary.org/obo/NCBITaxon_9606"), "facets": [AGE]},
    {"filter": _s(_t("annotations", True)), "facets": [TESLA, {"field": "manufacturer"}]},
    {"filter": _and(FLAIR_3T, AGED), "facets": [SEX, {"field": "modality"}, DIAGNOSES, AGE]},
]  # fmt: skip


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# -- indexing --------------------------------------------------------------------------------
def dump_to_file(store: Store, path: Path) -> int:
    count = 0
    with path.open("w") as out:
        for dump in dump_all(store):
            for doc in dump.docs:
                out.write(json.dumps([doc.kind, doc.id, doc.body]) + "\n")
                count += 1
    return count


def read_docs(path: Path, batch: int = 500) -> Iterator[list[Document]]:
    docs: list[Document] = []
    with path.open() as lines:
        for line in lines:
            kind, id_, body = json.loads(line)
            docs.append(Document(kind, id_, body))
            if len(docs) >= batch:
                yield docs
                docs = []
    if docs:
        yield docs


def bare_bulk(backend: ElasticsearchBackend, path: Path) -> float:
    """The baseline: the same documents, same mappings, straight through `helpers.bulk`."""
    prefix = f"bare-{uuid.uuid4().hex[:6]}"
    client = backend.client
    settings = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}
    for kind in KINDS:
        client.indices.create(
            index=f"{prefix}-{kind}", mappings=dsl.mapping(kind), settings=settings
        )

    def actions() -> Iterator[dict[str, Any]]:
        with path.open() as lines:
            for line in lines:
                kind, id_, body = json.loads(line)
                yield {"_index": f"{prefix}-{kind}", "_id": id_, "_source": body}

    seconds, _ = timed(
        lambda: (
            helpers.bulk(client, actions(), chunk_size=500),
            client.indices.refresh(index=f"{prefix}-*"),
        )
    )
    client.indices.delete(index=[f"{prefix}-{kind}" for kind in KINDS])
    return seconds


def ours_from_file(backend: ElasticsearchBackend, path: Path) -> float:
    def fill(writer: IndexWriter) -> None:
        for docs in read_docs(path):
            writer.index(docs)

    return timed(lambda: backend.rebuild(fill))[0]


# -- queries ---------------------------------------------------------------------------------
def raw_call(
    backend: SearchBackend, service: SearchService, query: dict[str, Any]
) -> Callable[[], Any]:
    """The same aggregate the node sends, sent straight to the engine (ES body / SQL text)."""
    from catalogue.search.query import validate_query
    from catalogue.search.suppression import Access

    q = validate_query(query)
    colls = [c for c in service.collections(ANONYMOUS) if c.access is not Access.NONE]
    scope = service._scope(ANONYMOUS, colls, {Access.RECORDS, Access.COUNTS})
    request = AggregateRequest(
        "subjects", q.text, q.filter, scope, tuple(q.facets), True, ("study_count", "series_count")
    )
    if isinstance(backend, ElasticsearchBackend):
        body = backend.aggregate_body(request)
        return lambda: backend.client.search(index=backend.alias("subjects"), **body)
    assert isinstance(backend, EmbeddedBackend)
    statements: list[str] = []
    conn, _ = backend._conn()
    conn.set_trace_callback(statements.append)
    backend.aggregate(request)
    conn.set_trace_callback(None)
    raw = sqlite3.connect(backend.info().name, isolation_level=None)

    def replay() -> None:
        for statement in statements:
            raw.execute(statement).fetchall()

    return replay


def query_mix(backend: SearchBackend, service: SearchService, repeat: int) -> dict[str, Any]:
    gc.collect()  # then freeze what set-up built, as `catalogue serve` does (api/cli.py)
    gc.freeze()
    node, direct = [], []
    for query in MIX:
        raw = raw_call(backend, service, query)
        service.cohort(ANONYMOUS, query), raw()  # warm both paths
        for _ in range(repeat):
            node.append(timed(lambda q=query: service.cohort(ANONYMOUS, q))[0])
            direct.append(timed(raw)[0])
    (n50, n95), (d50, d95) = percentiles(node), percentiles(direct)
    return {"node_p50_ms": n50 * 1e3, "node_p95_ms": n95 * 1e3, "engine_p50_ms": d50 * 1e3,
            "engine_p95_ms": d95 * 1e3, "overhead_p50": n50 / d50}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each query")
    parser.add_argument("--rounds", type=int, default=2, help="indexing runs of each kind")
    parser.add_argument("--es-url", default=None)
    parser.add_argument("--private-es", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="keep the work dir's loaded store")
    parser.add_argument("--no-pipeline", action="store_true", help="skip store→ES indexing")
    parser.add_argument("--no-embedded", action="store_true", help="measure Elasticsearch only")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-search-"))
    print(f"machine: {os.cpu_count()} cores; work dir {work}")
    report: dict[str, Any] = {"cores": os.cpu_count()}
    store = Store(f"sqlite:///{work / 'catalogue.db'}", "http://bench.test")
    store.upgrade()  # a reused store too: it may predate this version's migrations
    if not (args.reuse and (work / "catalogue.db").exists()):
        report["catalogue"] = make_catalogue(store, args.subjects, args.sites)
    if not args.no_embedded:
        report["embedded"] = run_embedded(store, work, args.repeat)
    with elasticsearch_url(args.es_url, args.private_es) as url:
        if url:
            es = run_elasticsearch(store, url, work, args.repeat, args.rounds, not args.no_pipeline)
            report["elasticsearch"] = es
    print(json.dumps(report, indent=2))


def make_catalogue(store: Store, subjects: int, sites: int) -> dict[str, int]:
    seconds, catalogue = timed(lambda: generate(subjects=subjects, sites=sites, seed=1))
    counts = catalogue.counts()
    print(f"generated {counts} in {seconds:.1f} s")
    seconds, _ = timed(lambda: load(store, catalogue))
    print(f"loaded into SQLite in {seconds:.1f} s")
    return counts


@contextmanager
def elasticsearch_url(given: str | None, private: bool) -> Iterator[str | None]:
    """The engine to measure: the URL given, or a private one started for the run."""
    if not private:
        yield given
        return
    from tests.search.es_process import ElasticsearchProcess, distribution

    home = distribution()
    assert home is not None, "no Elasticsearch distribution: run deploy/local/services start"
    process = ElasticsearchProcess(home, heap="1g")
    try:
        process.start()
        yield process.url
    finally:
        process.remove()


def drop_indices(backend: ElasticsearchBackend) -> None:
    """Delete the backend's indices by name (servers may refuse wildcard deletes)."""
    found = backend.client.indices.get(index=f"{backend.prefix}-*", allow_no_indices=True)
    if found:
        backend.client.indices.delete(index=list(found))


def run_embedded(store: Store, work: Path, repeat: int) -> dict[str, Any]:
    backend = EmbeddedBackend(work / "search")
    seconds, _ = timed(lambda: Indexer(store, backend).rebuild())
    info = backend.info()
    print(f"embedded: rebuilt from the store in {seconds:.1f} s, {info.size_bytes / 1e6:.0f} MB")
    result = {"rebuild_s": seconds, "index_mb": info.size_bytes / 1e6, "documents": info.documents}
    result |= query_mix(backend, SearchService(store, backend, 5), repeat)
    print(f"embedded: {result}")
    return result


def settle(backend: ElasticsearchBackend, quiet_s: float = 5, limit_s: float = 1800) -> int:
    """Wait until the engine has run no merge for `quiet_s`: queries timed while a fresh index
    still merges in the background measure the merging, not the node. Returns the segments."""
    client, names = backend.client, [backend.alias(k) for k in KINDS]
    started = quiet = time.monotonic()
    while time.monotonic() - quiet < quiet_s and time.monotonic() - started < limit_s:
        merges = client.indices.stats(index=names, metric="merge")["_all"]["total"]["merges"]
        if merges["current"]:
            quiet = time.monotonic()
        time.sleep(0.5)
    stats = client.indices.stats(index=names, metric="segments")
    return int(stats["_all"]["primaries"]["segments"]["count"])


def run_elasticsearch(
    store: Store, url: str, work: Path, repeat: int, rounds: int, full: bool
) -> dict[str, Any]:
    backend = ElasticsearchBackend(url, prefix=f"bench-{uuid.uuid4().hex[:6]}", timeout=120)
    try:
        docs_file = work / "documents.ndjson"
        dump_s, count = timed(lambda: dump_to_file(store, docs_file))
        bares, ourses = [], []
        for _ in range(rounds):  # alternate, keep the best: neither pays alone for a cold engine
            bares.append(bare_bulk(backend, docs_file))
            ourses.append(ours_from_file(backend, docs_file))
        bare, ours = min(bares), min(ourses)
        pipeline = timed(lambda: Indexer(store, backend).rebuild())[0] if full else None
        segments = settle(backend)
        info = backend.info()
        result = {
            "documents": count, "dump_s": dump_s, "bare_bulk_s": bare, "backend_s": ours,
            "pipeline_s": pipeline, "index_mb": (info.size_bytes or 0) / 1e6, "segments": segments,
            "backend_vs_bare": bare / ours,
            "pipeline_vs_bare": bare / pipeline if pipeline else None,
        }  # fmt: skip
        print(f"elasticsearch indexing: {result}")
        result |= query_mix(backend, SearchService(store, backend, 5), repeat)
        print(f"elasticsearch: {result}")
        return result
    finally:
        drop_indices(backend)
        backend.close()


if __name__ == "__main__":
    main()
