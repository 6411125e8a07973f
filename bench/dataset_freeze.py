"""Dataset benchmark: freezing a cohort into a dataset version, and its manifest, against bare
baselines on the same store and index.

    .venv/bin/python -m bench.dataset_freeze                    # 5,000 subjects, 3 runs
    .venv/bin/python -m bench.dataset_freeze --subjects 20000

(a) bare freeze: the cohort walked through the search service (the same pages), then one plain
    SELECT of the member series (id, IRI, site, visibility) per 500 subjects.
(b) `DatasetService.create`: the same walk, member rows with loader fields and sequence types,
    the snapshot (members, counted sites, harvest runs, datasheet cells) written in one transaction.
(c) bare manifest: a plain SELECT of the listed series' columns written with `csv.writer`.
(d) `DatasetService.manifest(..., "csv")` for the same version.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.catalogue_generator import generate, load
from catalogue.access import Identity
from catalogue.models import Collection, Series, Site
from catalogue.publishing.members import subjects_of_query
from catalogue.publishing.providers import LocalProvider
from catalogue.publishing.service import DatasetService
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService
from catalogue.store import Store

ADMIN = Identity(subject="bench", roles=frozenset({"admin"}))
COHORT = {
    "filter": {"op": "has_series", "where": {"op": "term", "field": "modality", "value": "MR"}}
}


def _median(runs: int, work: Callable[[int], Any]) -> float:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_freeze(store: Store, search: SearchService) -> int:
    subjects = subjects_of_query(search, ADMIN, COHORT)
    found = 0
    query = (
        sa.select(Series.id, Series.iri, Site.slug, Collection.visibility)
        .join(Collection, Collection.id == Series.collection_id)  # type: ignore[arg-type]
        .join(Site, Site.id == Collection.site_id)  # type: ignore[arg-type]
    )
    with store.engine.connect() as conn:
        for start in range(0, len(subjects), 500):
            chunk = subjects[start : start + 500]
            found += len(conn.execute(query.where(Series.subject_id.in_(chunk))).all())  # type: ignore[attr-defined]
    return found


def bare_manifest(store: Store, iris: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = [Series.iri, Series.access_url, Series.modality, Series.manufacturer,
               Series.field_strength_t, Series.year]  # fmt: skip
    with store.engine.connect() as conn:
        for start in range(0, len(iris), 500):
            chunk = iris[start : start + 500]
            writer.writerows(conn.execute(sa.select(*columns).where(Series.iri.in_(chunk))))  # type: ignore[attr-defined]
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="catalogue-bench-datasets-"))
    store = Store(f"sqlite:///{root / 'catalogue.db'}", "http://bench.test")
    store.upgrade()
    load(store, generate(subjects=args.subjects, sites=2, collections_per_site=4, seed=7))
    backend = EmbeddedBackend(root / "search")
    Indexer(store, backend).rebuild()
    search = SearchService(store, backend, 5)
    service = DatasetService(store, search, LocalProvider("10.5072"), publisher="bench")

    members = bare_freeze(store, search)
    a = _median(args.runs, lambda _: bare_freeze(store, search))
    made: list[uuid.UUID] = []
    b = _median(
        args.runs,
        lambda i: made.append(
            service.create(ADMIN, {"slug": f"bench-{i}", "title": "Bench", "query": COHORT}).id
        ),
    )
    view = service.show(ADMIN, made[0])
    with store.session() as session:
        from catalogue.models import DatasetVersion

        iris = session.get(DatasetVersion, view.versions[0].id).members  # type: ignore[union-attr]
    c = _median(args.runs, lambda _: bare_manifest(store, iris))
    d = _median(args.runs, lambda _: service.manifest(ADMIN, made[0], "csv"))
    print(
        f"dataset freeze, {args.subjects} subjects, {members} member series, median of {args.runs}"
    )
    print(f"(a) bare freeze (walk + SELECT)       {a:8.3f} s   1.00x")
    print(f"(b) DatasetService.create             {b:8.3f} s   {b / a:5.2f}x (a)")
    print(f"(c) bare manifest ({len(iris)} rows)    {c:8.3f} s   1.00x")
    print(f"(d) DatasetService.manifest csv       {d:8.3f} s   {d / c:5.2f}x (c)")
    backend.close()
    store.dispose()


if __name__ == "__main__":
    main()
