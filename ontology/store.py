"""The term store: concepts from every loaded file, with the indexes look-ups and mappers need.

Indexes are plain dicts built once: IRI -> record, code -> IRIs, normalised label -> IRIs. The
ancestor closure of a concept is computed on first use and kept, so each is computed once; a cycle
in a hierarchy only means a concept is its own ancestor's ancestor, never a hang.
"""

from __future__ import annotations

import bisect
import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ontology._records import FileContent, SchemeRecord, TermRecord
from ontology.normalise import code_keys, normalise
from ontology.prefixes import PrefixMap

PREFERRED, SYNONYM, HIDDEN = 0, 1, 2
_SEARCH_SCAN = 5000  # entries examined per autocomplete query, enough for any useful prefix


@dataclass(frozen=True, slots=True)
class Term:
    """A concept as the API shows it."""

    iri: str
    curie: str | None
    scheme: str | None  # the code system's CURIE prefix, e.g. "SCTID", "ICD10CM"
    code: str
    label: str
    synonyms: tuple[str, ...]
    parents: tuple[str, ...]
    vocabularies: tuple[str, ...]  # concept-scheme IRIs
    version: str


class TermStore:
    def __init__(self, prefixes: PrefixMap) -> None:
        self.prefixes = prefixes
        self._records: dict[str, TermRecord] = {}
        self._schemes: dict[str, SchemeRecord] = {}
        self._codes: dict[str, list[str]] = {}
        self._labels: dict[str, list[tuple[int, str]]] = {}
        self._indexed = False
        self._closure: dict[str, tuple[str, ...]] = {}
        self._children: dict[str, list[str]] | None = None
        self._search: tuple[list[str], list[tuple[int, str]]] | None = None

    def add(self, content: FileContent) -> None:
        """Add one file's terms; a concept in several files gets the union of what they say."""
        self.prefixes.add(content.prefixes)
        for scheme in content.schemes:
            self._schemes.setdefault(scheme.iri, scheme)
        records = self._records
        for record in content.terms:
            known = records.get(record.iri)
            records[record.iri] = record if known is None else _merge(known, record)
        self._indexed = False
        self._children = self._search = None

    def build_indexes(self) -> None:
        """Code and label indexes (about a second for ICD-10-CM), built on first use."""
        if self._indexed:
            return
        codes: dict[str, list[str]] = {}
        labels: dict[str, list[tuple[int, str]]] = {}
        split = self.prefixes.split
        with paused_gc():
            for record in self._records.values():
                iri = record.iri
                parts = split(iri)
                for code in {*record.notations, parts[1]} if parts else record.notations:
                    for key in code_keys(code):
                        codes.setdefault(key, []).append(iri)
                labels.setdefault(normalise(record.label), []).append((PREFERRED, iri))
                for text in record.synonyms:
                    labels.setdefault(normalise(text), []).append((SYNONYM, iri))
                for text in record.hidden:
                    labels.setdefault(normalise(text), []).append((HIDDEN, iri))
        self._codes, self._labels, self._indexed = codes, labels, True

    def __contains__(self, iri: object) -> bool:
        return iri in self._records

    def __len__(self) -> int:
        return len(self._records)

    def record(self, iri: str) -> TermRecord | None:
        return self._records.get(iri)

    @property
    def schemes(self) -> dict[str, SchemeRecord]:
        return dict(self._schemes)

    def by_code(self, value: str) -> list[str]:
        """IRIs whose code (CURIE local part or skos:notation) is `value`, ignoring case."""
        self.build_indexes()
        for key in code_keys(value):
            found = self._codes.get(key)
            if found:
                return sorted(set(found))
        return []

    def by_label(self, key: str) -> list[tuple[int, str]]:
        """(rank, IRI) for a normalised label: 0 preferred, 1 synonym, 2 hidden; best first."""
        self.build_indexes()
        return sorted(set(self._labels.get(key, ())))

    def term(self, iri: str) -> Term | None:
        record = self._records.get(iri)
        if record is None:
            return None
        split = self.prefixes.split(iri)
        scheme = self._schemes.get(record.schemes[0]) if record.schemes else None
        return Term(
            iri=iri,
            curie=f"{split[0]}:{split[1]}" if split else None,
            scheme=split[0] if split else None,
            code=split[1] if split else (record.notations or (iri,))[0],
            label=record.label,
            synonyms=record.synonyms,
            parents=record.parents,
            vocabularies=record.schemes,
            version=scheme.version if scheme else "",
        )

    def closure(self, iri: str) -> tuple[str, ...]:
        """The concept and all its ancestors, nearest first; computed once per concept."""
        found = self._closure.get(iri)
        if found is None:
            found = self._closure[iri] = self._walk_up(iri)
        return found

    def _walk_up(self, iri: str) -> tuple[str, ...]:
        seen, order = {iri}, [iri]
        queue = deque(self._parents(iri))
        while queue:
            parent = queue.popleft()
            if parent in seen:
                continue  # visited already: this is what makes cycles harmless
            known = self._closure.get(parent)
            if known is not None:  # a finished closure is complete: take it whole
                fresh = [a for a in known if a not in seen]
                seen.update(fresh)
                order += fresh
                continue
            seen.add(parent)
            order.append(parent)
            queue.extend(self._parents(parent))
        return tuple(order)

    def _parents(self, iri: str) -> tuple[str, ...]:
        record = self._records.get(iri)
        return record.parents if record else ()

    def descendants(self, iri: str) -> tuple[str, ...]:
        """Every concept below `iri` (not itself), nearest first."""
        children = self._children_index()
        seen, order = {iri}, []
        queue = deque(children.get(iri, ()))
        while queue:
            child = queue.popleft()
            if child not in seen:
                seen.add(child)
                order.append(child)
                queue.extend(children.get(child, ()))
        return tuple(order)

    def _children_index(self) -> dict[str, list[str]]:
        if self._children is None:
            children: dict[str, list[str]] = {}
            for record in self._records.values():
                for parent in record.parents:
                    children.setdefault(parent, []).append(record.iri)
            self._children = {k: sorted(v) for k, v in children.items()}
        return self._children

    def search(
        self, prefix: str, limit: int, accept: Callable[[str], bool] | None = None
    ) -> list[str]:
        """IRIs whose label or synonym starts with `prefix`: exact, then label, then synonym."""
        key = normalise(prefix)
        if not key or limit <= 0:
            return []
        keys, values = self._search_index()
        start = bisect.bisect_left(keys, key)
        stop = min(len(keys), start + _SEARCH_SCAN)
        best: dict[str, tuple[int, int, str]] = {}
        for i in range(start, stop):
            text = keys[i]
            if not text.startswith(key):
                break
            rank, iri = values[i]
            if accept is not None and not accept(iri):
                continue
            score = (0 if text == key else 1 + min(rank, SYNONYM), len(text), text)
            if iri not in best or score < best[iri]:
                best[iri] = score
        return sorted(best, key=lambda i: (best[i], i))[:limit]

    def warm(self) -> None:
        """Build every lazy index now (a node may do this in the background after start)."""
        self.build_indexes()
        self._search_index()
        self._children_index()

    def _search_index(self) -> tuple[list[str], list[tuple[int, str]]]:
        if self._search is None:
            self.build_indexes()
            rows = sorted(
                (text, rank, iri)
                for text, entries in self._labels.items()
                for rank, iri in entries
                if rank < HIDDEN
            )
            self._search = ([r[0] for r in rows], [(r[1], r[2]) for r in rows])
        return self._search

    def iris(self) -> Iterable[str]:
        return self._records.keys()


@contextmanager
def paused_gc() -> Iterator[None]:
    """Building 100,000s of small objects triggers the cyclic collector thousands of times for
    nothing (nothing here is cyclic garbage): pause it while we build."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _merge(a: TermRecord, b: TermRecord) -> TermRecord:
    def union(x: tuple[str, ...], y: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({*x, *y}))

    extra = (b.label,) if b.label != a.label else ()
    return TermRecord(
        a.iri,
        a.label,
        union(a.synonyms, (*b.synonyms, *extra)),
        union(a.hidden, b.hidden),
        union(a.parents, b.parents),
        union(a.schemes, b.schemes),
        union(a.notations, b.notations),
    )
