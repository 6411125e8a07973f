"""Mapping 1,000,000 field values against a bare dict look-up over the same values.

    .venv/bin/python bench/ontology_mapping.py [--values 1000000] [--repeats 5]

Values are drawn Zipf-like (s = 1.1) from a few thousand distinct strings per field, the way a
catalogue sees them: a few spellings ("HEAD", "Brain", "Kopf") dominate, a long tail follows.
Prints medians of several runs and the ratio mapping/baseline in speed (target >= 0.5), for the
bulk path (`map_many`) and for one `map` call per value, then the cost of a closure look-up.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from ontology import Ontology

_SEEDS = {
    "body_part": ["HEAD", "Brain", "BRAIN", "Kopf", "Schädel", "CHEST", "Thorax", "ABDOMEN",
                  "LSPINE", "L-spine", "knee", "Knie", "PELVIS", "Becken", "LIVER", "tête"],
    "modality": ["MR", "CT", "PT", "MRI", "US", "SEG", "SR", "NM", "XA", "CR", "DX", "MG"],
    "diagnosis": ["G35", "MS", "Multiple sclerosis", "G30.9", "Alzheimer's disease", "C71.9",
                  "I63.9", "G20", "F20.0", "healthy control", "G40.909", "C50.911"],
    "species": ["Homo sapiens", "human", "mouse", "C57BL/6J", "rat", "Wistar", "9606",
                "Macaca mulatta", "pig", "zebrafish"],
}  # fmt: skip


def _distinct(field: str, count: int, rng: random.Random) -> list[str]:
    """A few thousand distinct spellings: seeds, case and spacing variants, and noise."""
    values = list(_SEEDS[field])
    while len(values) < count:
        base = rng.choice(_SEEDS[field])
        variant = rng.choice([base.upper(), base.lower(), f" {base} ", f"{base} {len(values)}"])
        values.append(variant)
    return values


def _workload(n: int, rng: random.Random) -> dict[str, list[str]]:
    """n values per field overall, Zipf-distributed over each field's distinct values."""
    out = {}
    for field in _SEEDS:
        distinct = _distinct(field, 3000, rng)
        weights = [1 / (rank + 1) ** 1.1 for rank in range(len(distinct))]
        out[field] = rng.choices(distinct, weights, k=n // len(_SEEDS))
    return out


def _median(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    start = time.perf_counter()
    onto = Ontology.load()
    print(f"load: {time.perf_counter() - start:.2f} s ({len(onto):,} concepts)")
    start = time.perf_counter()
    onto.warm()
    print(f"indexes (built on first use, or by warm()): {time.perf_counter() - start:.2f} s")
    work = _workload(args.values, random.Random(7))  # noqa: S311 (test data, not secrets)
    # the baseline: a dict already holding each distinct value's answer
    tables = {f: {v: onto.map(f, v) for v in set(vs)} for f, vs in work.items()}

    def baseline() -> None:
        for field, values in work.items():
            table = tables[field]
            [table[v] for v in values]

    def bulk() -> None:
        for field, values in work.items():
            onto.map_many(field, values)

    def single() -> None:
        for field, values in work.items():
            mapper = onto.map
            [mapper(field, v) for v in values]

    total = sum(map(len, work.values()))
    base = _median(baseline, args.repeats)
    print(f"values: {total:,}; distinct: {sum(len(t) for t in tables.values()):,}")
    print(f"bare dict look-up  median {base * 1e3:8.1f} ms  ({base / total * 1e9:5.1f} ns/value)")
    for name, run in (("map_many (bulk)", bulk), ("map (one call each)", single)):
        took = _median(run, args.repeats)
        print(
            f"{name:<19}median {took * 1e3:8.1f} ms  ({took / total * 1e9:5.1f} ns/value)"
            f"  speed ratio {base / took:.2f} (target >= 0.5)"
        )
    _closure(onto, args.repeats)


def _closure(onto: Ontology, repeats: int) -> None:
    iris = [m.iri for m in onto.map_many("diagnosis", ["G35", "G30.9", "C71.9", "I63.9"])]
    known = [i for i in iris if i] * 250_000
    fresh = onto.search("neoplasm", 1)[0].iri
    first = time.perf_counter()
    onto.closure(fresh)
    once = time.perf_counter() - first
    took = _median(lambda: [onto.closure(i) for i in known], repeats)
    print(f"closure look-up    {took / len(known) * 1e9:5.1f} ns each (kept after first use, O(1));"
          f" first computation {once * 1e6:.0f} µs")  # fmt: skip


if __name__ == "__main__":
    main()
