"""The contract every harvester must pass, whatever its source.

`check_contract(make)` runs it for one harvester; `make(options_override)` builds a harvester
over a prepared, reachable source. Each installed kind registers how to prepare its source in
`tests/contract/test_harvesters.py`, and a test fails when an installed kind has none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from catalogue.errors import FatalHarvestError
from catalogue.records import Checkpoint, Cursor, Item, Record, Seen
from harvesters.base import Harvester

Make = Callable[[], Harvester[Any]]


def walk(harvester: Harvester[Any], since: Cursor | None = None) -> list[Item]:
    return list(harvester.iter_records(since))


def records(items: Iterable[Item]) -> list[Record]:
    return [i for i in items if not isinstance(i, Seen | Checkpoint)]


def last_cursor(items: Iterable[Item]) -> Cursor:
    cursor = None
    for item in items:
        if isinstance(item, Checkpoint) or (not isinstance(item, Seen) and item.cursor is not None):
            cursor = item.cursor
    return cursor


def check_connection_passes(make: Make) -> None:
    make().check_connection()


def check_connection_fails_clearly(make_broken: Make) -> None:
    with pytest.raises(FatalHarvestError) as caught:
        make_broken().check_connection()
    assert caught.value.message, "the reason must say what is wrong"


def check_ids_are_unique(items: list[Item]) -> None:
    """A record may be repeated (a subject once per series) only with identical content."""
    first: dict[tuple[str, str], Record] = {}
    for record in records(items):
        key = (record.kind, record.native_id)
        if key in first:
            assert record.model_dump(exclude={"cursor"}) == first[key].model_dump(
                exclude={"cursor"}
            ), f"{key} yielded twice with different content"
        first.setdefault(key, record)
    series = [r.native_id for r in records(items) if r.kind == "series"]
    assert len(series) == len(set(series)), "a series was yielded twice"


def check_parents_are_yielded(items: list[Item]) -> None:
    known = {(i.kind, i.native_id) for i in items if not isinstance(i, Checkpoint)}
    for record in records(items):
        for parent in ("collection", "subject", "study"):
            if parent in type(record).model_fields and parent != record.kind:
                assert (parent, getattr(record, parent)) in known, (
                    f"{record.kind} lacks its {parent}"
                )


def check_cursors_are_monotonic(items: list[Item]) -> None:
    cursors = [c for i in items if not isinstance(i, Seen) and (c := i.cursor) is not None]
    comparable = [c for c in cursors if isinstance(c, str | int | float)]
    assert comparable == sorted(comparable), "cursors went backwards"


def check_resume_yields_nothing_older(make: Make, items: list[Item], complete_walks: bool) -> None:
    since = last_cursor(items)
    again = walk(make(), since)
    for record in records(again):
        if isinstance(record.cursor, str | int | float) and isinstance(since, str | int | float):
            assert record.cursor >= since, "a resumed walk yielded an older record"
    if complete_walks:  # a complete walk still accounts for everything, as records or `Seen`
        assert _accounted(again) == _accounted(items)
    else:
        assert len(records(again)) <= len(records(items))


def _accounted(items: Iterable[Item]) -> set[tuple[str, str]]:
    return {(i.kind, i.native_id) for i in items if not isinstance(i, Checkpoint)}


def check_contract(make: Make, make_broken: Make) -> None:
    check_connection_passes(make)
    check_connection_fails_clearly(make_broken)
    items = walk(make())
    assert records(items), "the prepared source must yield records"
    check_ids_are_unique(items)
    check_parents_are_yielded(items)
    check_cursors_are_monotonic(items)
    check_resume_yields_nothing_older(make, items, make().complete_walks)
