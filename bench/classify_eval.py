"""Accuracy and speed of the series classifier on `ontology/data/sequence_eval.tsv`.

    .venv/bin/python bench/classify_eval.py [--split all|held-out|tuning] [--errors]

Accuracy counts an "unknown" answer on a labelled row as wrong; wrong classes are reported
separately because they are worse (a wrong label misleads a search, an unknown only misses).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Sequence

from ontology._classify_eval import UNKNOWN, EvalRow, load_eval_rows
from ontology.classify import SEQUENCE_TYPES, Classification

_TIMING_ROUNDS = 20


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["all", "held-out", "tuning"], default="all")
    parser.add_argument("--errors", action="store_true", help="list every wrong row")
    args = parser.parse_args(argv)
    rows = [row for row in load_eval_rows() if _in_split(row, args.split)]
    results = [(row, row.classify()) for row in rows]
    _summary(results, args.split)
    _per_class(results)
    _confusions(results)
    if args.errors:
        _errors(results)
    _timing(rows)


def _in_split(row: EvalRow, split: str) -> bool:
    return split == "all" or row.held_out == (split == "held-out")


def _got(result: Classification) -> str:
    return result.sequence_type or UNKNOWN


def _summary(results: list[tuple[EvalRow, Classification]], split: str) -> None:
    total = len(results)
    correct = sum(_got(res) == row.expected_type for row, res in results)
    labelled = [(row, res) for row, res in results if row.expected_type != UNKNOWN]
    unknown = sum(res.sequence_type is None for _, res in labelled)
    wrong = sum(res.sequence_type not in (None, row.expected_type) for row, res in labelled)
    false_class = sum(
        res.sequence_type is not None for row, res in results if row.expected_type == UNKNOWN
    )
    phase = sum(res.contrast == row.expected_contrast for row, res in results)
    held = [(row, res) for row, res in results if row.held_out]
    print(f"split: {split}, rows: {total} ({len(held)} held out), labelled: {len(labelled)}")
    print(f"accuracy (unknown on a labelled row = wrong): {correct / total:.3f}")
    for name, part in (("held-out", held), ("tuning", [r for r in results if not r[0].held_out])):
        if part:
            hits = sum(_got(res) == row.expected_type for row, res in part)
            print(f"  {name:9s} {hits / len(part):.3f} ({hits}/{len(part)})")
    print(f"labelled rows answered unknown: {unknown / max(len(labelled), 1):.3f} ({unknown})")
    print(f"labelled rows given a WRONG class: {wrong / max(len(labelled), 1):.3f} ({wrong})")
    print(f"unknown rows given a class: {false_class}")
    print(f"contrast phase accuracy: {phase / total:.3f}")


def _per_class(results: list[tuple[EvalRow, Classification]]) -> None:
    print(f"\n{'class':10s} {'n':>4s} {'recall':>7s} {'precision':>9s} {'unknown':>8s}")
    for label in [*sorted(SEQUENCE_TYPES, key=str.lower), UNKNOWN]:
        support = [res for row, res in results if row.expected_type == label]
        predicted = [row for row, res in results if _got(res) == label]
        hits = sum(_got(res) == label for res in support)
        if not support and not predicted:
            continue
        recall = f"{hits / len(support):.3f}" if support else "-"
        precision = f"{hits / len(predicted):.3f}" if predicted else "-"
        missed = sum(res.sequence_type is None for res in support) if label != UNKNOWN else 0
        print(f"{label:10s} {len(support):4d} {recall:>7s} {precision:>9s} {missed:8d}")


def _confusions(results: list[tuple[EvalRow, Classification]]) -> None:
    pairs = Counter(
        (row.expected_type, _got(res)) for row, res in results if _got(res) != row.expected_type
    )
    print("\nconfusions (expected -> got: count):")
    for (expected, got), count in pairs.most_common():
        print(f"  {expected} -> {got}: {count}")


def _errors(results: list[tuple[EvalRow, Classification]]) -> None:
    print("\nerrors (line, expected, got, reason, description | protocol):")
    for row, res in results:
        wrong_type = _got(res) != row.expected_type
        if wrong_type or res.contrast != row.expected_contrast:
            got = f"{_got(res)}/{res.contrast}"
            want = f"{row.expected_type}/{row.expected_contrast}"
            print(f"  {row.line:4d} {want:18s} {got:18s} {res.reason} :: "
                  f"{row.description!r} | {row.protocol!r}")  # fmt: skip


def _timing(rows: list[EvalRow]) -> None:
    """Best of several rounds: the least disturbed by other processes on the machine."""
    rounds = []
    for _ in range(_TIMING_ROUNDS):
        start = time.perf_counter()
        for row in rows:
            row.classify()
        rounds.append((time.perf_counter() - start) / len(rows))
    print(
        f"\ntime per call (uncached, best of {_TIMING_ROUNDS} rounds): {min(rounds) * 1e6:.1f} µs"
    )


if __name__ == "__main__":
    main()
