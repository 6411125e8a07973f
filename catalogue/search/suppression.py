"""Privacy-safe counts: small-cell suppression with complementary suppression.

Every count in an answer is split into an *exact* part, from collections the caller may see
records of (the caller could count those records anyway), and a *restricted* part, from
aggregate-only collections. Only restricted parts are protected:

1. primary: a cell whose restricted part is between 1 and k-1 is suppressed;
2. complementary: the answer's additive relations (total = Σ sites, site = Σ collections,
   total = Σ facet buckets + other + missing) are closed under suppression: a relation never
   holds exactly one suppressed cell, and when its sum is shown the n suppressed cells together
   hide at least max(k + n - 2, n + 1) records, so subtracting the shown cells leaves each hidden
   one anywhere between 1 and k - 1 or more. Complements are the smallest non-zero cells.

A suppressed cell shows `value = None`, `suppressed = True`, the threshold, and `at_least`
(its exact part). It is either fewer than k or hidden to protect one that is. Facet buckets are
chosen and ordered by what the caller may see, never by hidden parts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from catalogue.access import Access, Identity, access_to
from catalogue.models import DoiState, Visibility

__all__ = ["Access", "Count", "Policy", "Table", "access_of", "dataset_states"]


def access_of(
    identity: Identity,
    visibility: Visibility,
    site_slug: str | None = None,
    granted: Access | None = None,
) -> Access:
    """What `identity` may learn from a collection: the rules of `catalogue.access`."""
    return access_to(identity, visibility, site_slug, granted)


def dataset_states(identity: Identity) -> frozenset[str] | None:
    """Dataset states `identity` may find: findable ones, or all for administrators."""
    return None if identity.is_admin else frozenset({DoiState.FINDABLE.value})


class Count(BaseModel):
    """A count as the caller may see it. Suppressed: `value` is None; the true count is more
    than `at_least` (its exact part), hidden below `threshold` or to protect a cell that is.
    Immutable, so answers share equal counts."""

    model_config = ConfigDict(frozen=True)

    value: int | None
    suppressed: bool = False
    threshold: int | None = None
    at_least: int = 0


@dataclass
class Cell:
    exact: int = 0
    restricted: int = 0
    suppressed: bool = False

    @property
    def public(self) -> int:
        """What the caller can know of it: all of it if shown, the exact part if suppressed."""
        return self.exact if self.suppressed else self.exact + self.restricted


Key = tuple[Any, ...]  # ("m", measure, ...) or ("f", facet index, ...)


@dataclass
class Table:
    """Cells and the additive relations between them (parent = Σ children)."""

    cells: dict[Key, Cell] = field(default_factory=dict)
    relations: list[tuple[Key, list[Key]]] = field(default_factory=list)

    def cell(self, key: Key) -> Cell:
        found = self.cells.get(key)
        if found is None:  # not `setdefault`: it would build a Cell on every call
            found = self.cells[key] = Cell()
        return found

    def add(self, key: Key, exact: int, restricted: int) -> None:
        c = self.cell(key)
        c.exact += exact
        c.restricted += restricted


@dataclass(frozen=True)
class Policy:
    threshold: int = 5
    rounding: int | None = None  # round shown restricted parts to a multiple of this

    def primary(self, table: Table) -> None:
        for c in table.cells.values():
            c.suppressed = c.suppressed or 0 < c.restricted < self.threshold

    def complete(self, table: Table) -> None:
        """Add complementary suppressions until every relation protects its hidden cells."""
        changed = True
        while changed:
            changed = False
            for parent, children in table.relations:
                if not self._protected(table, parent, children):
                    changed = self._complement(table, parent, children) or changed

    def _protected(self, table: Table, parent: Key, children: Sequence[Key]) -> bool:
        hidden = [k for k in children if table.cells[k].suppressed]
        if table.cells[parent].suppressed:
            return bool(hidden) or all(table.cells[k].restricted == 0 for k in children)
        if not hidden:
            return True
        # the shown parent minus the shown children gives the hidden sum; each hidden cell is at
        # least 1, so each lies in [1, mass - (n - 1)]: wide enough to reach k - 1, never a point
        mass, n = sum(table.cells[k].restricted for k in hidden), len(hidden)
        return n >= 2 and mass >= max(self.threshold + n - 2, n + 1)

    def _complement(self, table: Table, parent: Key, children: Sequence[Key]) -> bool:
        shown = [k for k in children if not table.cells[k].suppressed and table.cells[k].restricted]
        if shown:
            pick = min(shown, key=lambda k: (table.cells[k].restricted, repr(k)))
        elif not table.cells[parent].suppressed and table.cells[parent].restricted:
            pick = parent
        else:
            return False
        table.cells[pick].suppressed = True
        return True

    def apply(self, table: Table) -> None:
        self.primary(table)
        self.complete(table)

    def count(self, c: Cell) -> Count:
        if c.suppressed:
            return _count(None, True, self.threshold, c.exact)
        restricted = c.restricted
        if self.rounding and restricted:
            restricted = max(self.rounding, round(restricted / self.rounding) * self.rounding)
        return _count(c.exact + restricted, False, None, c.exact)


@functools.lru_cache(maxsize=1 << 16)
def _count(value: int | None, suppressed: bool, threshold: int | None, at_least: int) -> Count:
    """~150 counts per cohort answer, most of them small numbers seen before: built once."""
    return Count(value=value, suppressed=suppressed, threshold=threshold, at_least=at_least)


def top(keys: Iterable[Key], table: Table, size: int) -> tuple[list[Key], list[Key]]:
    """Buckets to show (by what the caller may see, then by value) and the rest."""
    ordered = sorted(keys, key=lambda k: (-table.cells[k].public, repr(k)))
    return ordered[:size], ordered[size:]
