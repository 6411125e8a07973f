"""The search backend protocol and the types that cross it.

A backend answers checked queries (`query.validate_query`) over the dumper's documents, limited to
a `Scope` the service computed from the caller's identity. Aggregates come back raw, per
collection; suppression happens above the backend, once, for both engines.
No engine syntax or engine error crosses this boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from catalogue.search.documents import DocRef, Document
from catalogue.search.fields import Kind
from catalogue.search.query import Facet, Filter, Sort


@dataclass(frozen=True)
class Scope:
    """Which documents a caller may see. `None` means no restriction (an administrator).

    Record documents (subjects, studies, series, collections) are limited by collection id;
    datasets by their DOI state.
    """

    collections: frozenset[str] | None = None
    dataset_states: frozenset[str] | None = None


EVERYTHING = Scope()


@dataclass(frozen=True)
class SearchRequest:
    kind: Kind
    text: str | None
    filter: Filter | None
    scope: Scope
    sort: tuple[Sort, ...] = ()  # ties are always broken by id, ascending
    size: int = 20
    after: list[Any] | None = None  # the sort values of the previous page's last hit
    count_total: bool = True  # later pages of a walk reuse the first page's total


@dataclass(frozen=True)
class AggregateRequest:
    kind: Kind
    text: str | None
    filter: Filter | None
    scope: Scope
    facets: tuple[Facet, ...] = ()
    by_collection: bool = False  # one group per collection (cohorts), or a single group ""
    sums: tuple[str, ...] = ()  # integer fields summed per group: study_count, series_count


@dataclass(frozen=True)
class Hit:
    kind: Kind
    id: str
    iri: str | None
    collection: str | None
    site: str | None
    score: float | None = None


@dataclass
class Page:
    hits: list[Hit]
    total: int | None  # None when the request did not ask for it
    after: list[Any] | None  # pass back as `SearchRequest.after` for the next page


@dataclass
class FacetCounts:
    """Documents per value (terms) or per bin index (histogram), and documents with any value."""

    buckets: dict[str | int | float | bool, int] = field(default_factory=dict)
    with_value: int = 0


@dataclass
class GroupCounts:
    docs: int = 0
    sums: dict[str, int] = field(default_factory=dict)
    facets: dict[str, FacetCounts] = field(default_factory=dict)


@dataclass
class Aggregates:
    groups: dict[str, GroupCounts]  # by collection id, or "" when not grouped


@dataclass(frozen=True)
class IndexInfo:
    backend: str
    name: str  # the live index (file or Elasticsearch index names)
    documents: dict[str, int]  # per kind
    size_bytes: int | None = None


FACET_CAP = 1000  # values per facet and group an engine returns, most frequent first


class IndexWriter(Protocol):
    def index(self, docs: Sequence[Document]) -> None: ...

    def delete(self, refs: Sequence[DocRef]) -> None: ...


class SearchBackend(IndexWriter, Protocol):
    """What the indexer writes to and the search service reads from."""

    name: str

    def ensure(self) -> None:
        """Create the live index if there is none (idempotent)."""

    def search(self, request: SearchRequest) -> Page: ...

    def count(self, kind: Kind, filter: Filter | None, text: str | None, scope: Scope) -> int: ...

    def aggregate(self, request: AggregateRequest) -> Aggregates: ...

    def refresh(self) -> None:
        """Make every write so far visible to searches."""

    def rebuild(self, fill: Callable[[IndexWriter], None]) -> None:
        """Build a fresh index with `fill`, then make it the live one atomically; searches keep
        using the old index until the swap."""

    def info(self) -> IndexInfo: ...

    def outdated(self) -> bool:
        """The live index was laid out by another version of the node: it needs a rebuild."""

    def close(self) -> None: ...
