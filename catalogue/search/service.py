"""The search service: who may see what, then one backend call, then suppression.

`search` returns record-level hits only from collections the caller may see records of, with
exact totals and facets. `cohort` counts subjects (and their studies and series) per site and per
collection in every collection the caller may count, with aggregate-only parts suppressed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from opentelemetry import trace
from pydantic import BaseModel

from catalogue.access import Identity
from catalogue.audit import AuditLog
from catalogue.errors import ErrorDetail, SearchUnavailableError, ValidationError
from catalogue.grants import AccessCache, CollectionAccess
from catalogue.models import Visibility
from catalogue.search._summary import (
    CollectionInfo,
    FacetResult,
    Layout,
    SiteCounts,
    facet_results,
    facets,
    hierarchy,
    site_results,
)
from catalogue.search.backend import (
    AggregateRequest,
    Aggregates,
    GroupCounts,
    Page,
    Scope,
    SearchBackend,
    SearchRequest,
)
from catalogue.search.query import (
    Facet,
    Position,
    SearchQuery,
    decode_cursor,
    encode_cursor,
    validate_query,
)
from catalogue.search.suppression import (
    Access,
    Count,
    Policy,
    Table,
    dataset_states,
)
from catalogue.settings import Settings
from catalogue.store import Store

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
_T = TypeVar("_T")


class SearchHit(BaseModel):
    kind: str
    id: str
    iri: str | None
    collection: str | None
    site: str | None
    score: float | None


class SearchResult(BaseModel):
    kind: str
    total: int
    hits: list[SearchHit]
    cursor: str | None  # pass back as the query's `cursor` for the next page
    facets: list[FacetResult]
    engine: str  # the backend that answered (differs from the configured one on fallback)


class CohortSummary(BaseModel):
    subjects: Count
    studies: Count
    series: Count
    sites: list[SiteCounts]
    facets: list[FacetResult]
    threshold: int
    engine: str


class SearchService:
    def __init__(
        self,
        store: Store,
        backend: SearchBackend,
        suppression_threshold: int = 5,
        *,
        rounding: int | None = None,
        fallback: SearchBackend | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        self.backend = backend
        self.policy = Policy(threshold=suppression_threshold, rounding=rounding)
        self.fallback = fallback
        self.audit = audit or AuditLog(store)
        self.access = AccessCache(_reach)

    def search(self, identity: Identity, query: SearchQuery | Mapping[str, Any]) -> SearchResult:
        with tracer.start_as_current_span("search.search") as span:
            result = self._search(identity, query)
            span.set_attributes({"search.kind": result.kind, "search.engine": result.engine})
            return result

    def _search(self, identity: Identity, query: SearchQuery | Mapping[str, Any]) -> SearchResult:
        q = validate_query(query)
        colls = self.collections(identity)
        wanted = {Access.RECORDS, Access.COUNTS} if q.kind == "collections" else {Access.RECORDS}
        scope = self._scope(identity, colls, wanted)
        sort = tuple(q.effective_sort())
        request = SearchRequest(q.kind, q.text, q.filter, scope, sort, q.size, None)
        (page, total), engine = self._call(lambda b: _page(b, request, q))
        cursor = None
        if page.after is not None:
            cursor = encode_cursor(q, Position(page.after, total), engine)
        hits = [SearchHit(**vars(h)) for h in page.hits]
        found = self._facets(q, scope) if q.facets else []
        touched = [c.id for c in colls if c.access in wanted and _restricted(c)] if total else []
        if touched:  # the query is dumped only for an entry
            self.audit.record(identity, "search", _dump(q), touched, total)
        return SearchResult(
            kind=q.kind, total=total, hits=hits, cursor=cursor, facets=found, engine=engine
        )

    def _facets(self, q: SearchQuery, scope: Scope) -> list[FacetResult]:
        """Facets over the hits: all visible at record level, so exact."""
        request = AggregateRequest(q.kind, q.text, q.filter, scope, tuple(q.facets))
        aggs, _ = self._call(lambda b: b.aggregate(request))
        group = aggs.groups.get("", GroupCounts())
        table, total = Table(), ("m", "docs")
        table.add(total, group.docs, 0)
        built = facets(table, q.kind, q.facets, [(group, Access.RECORDS)], self.policy, total)
        return facet_results(table, built, self.policy)

    def cohort(self, identity: Identity, query: SearchQuery | Mapping[str, Any]) -> CohortSummary:
        """Subjects matching the query, per site and collection, with facets over subjects."""
        with tracer.start_as_current_span("search.cohort") as span:
            summary = self._cohort(identity, query)
            span.set_attribute("search.engine", summary.engine)
            return summary

    def _cohort(self, identity: Identity, query: SearchQuery | Mapping[str, Any]) -> CohortSummary:
        q = validate_query(query)
        if q.kind != "subjects":
            raise ValidationError(
                "invalid query", [ErrorDetail("a cohort is made of subjects", "kind")]
            )
        layout = self._reach(identity).cohort
        colls = layout.collections
        scope = self._scope(identity, colls, {Access.RECORDS, Access.COUNTS})
        request = AggregateRequest(
            "subjects",
            q.text,
            q.filter,
            scope,
            tuple(q.facets),
            True,
            ("study_count", "series_count"),
        )
        aggs, engine = self._call(lambda b: b.aggregate(request))
        sizes = {c.id: aggs.groups.get(c.id, GroupCounts()).docs for c in colls}
        touched = [c.id for c in colls if _restricted(c) and sizes[c.id]]
        if touched:
            self.audit.record(identity, "cohort", _dump(q), touched, sum(sizes.values()))
        return summarise(aggs, layout, q.facets, self.policy, engine)

    def collections(self, identity: Identity) -> tuple[CollectionInfo, ...]:
        """Live collections with what `identity` may learn from each, checked against the store
        on every call: the index may lag behind a visibility change, access never does."""
        return self._reach(identity).collections

    # -- internals ------------------------------------------------------------------------------
    def _reach(self, identity: Identity) -> _Reach:
        with self.store.engine.connect() as conn:
            return self.access.get(conn, identity)

    def _scope(
        self, identity: Identity, colls: Sequence[CollectionInfo], wanted: set[Access]
    ) -> Scope:
        if identity.is_admin:
            return Scope(collections=None, dataset_states=None)
        ids = frozenset(c.id for c in colls if c.access in wanted)
        return Scope(collections=ids, dataset_states=dataset_states(identity))

    def _call(self, call: Callable[[SearchBackend], _T]) -> tuple[_T, str]:
        """Ask the backend; when it is down and a fallback is configured, ask the fallback."""
        try:
            return call(self.backend), self.backend.name
        except SearchUnavailableError:
            if self.fallback is None:
                raise
            log.warning(
                "search backend %s unavailable: answering from %s",
                self.backend.name,
                self.fallback.name,
            )
            return call(self.fallback), self.fallback.name


@dataclass(frozen=True)
class _Reach:
    """What an identity may learn of each live collection, and the shape of its cohort answers
    over those it may count."""

    collections: tuple[CollectionInfo, ...]
    cohort: Layout


def _reach(rows: list[CollectionAccess]) -> _Reach:
    infos = tuple(
        CollectionInfo(str(c.id), c.title, c.site_slug, c.site_name, c.visibility, c.access)
        for c in rows
    )
    return _Reach(infos, Layout.of([c for c in infos if c.access is not Access.NONE]))


def _restricted(c: CollectionInfo) -> bool:
    return c.visibility is not Visibility.PUBLIC


def _dump(q: SearchQuery) -> dict[str, Any]:
    return q.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def summarise(
    aggs: Aggregates, layout: Layout, specs: list[Facet], policy: Policy, engine: str
) -> CohortSummary:
    """A cohort as the caller may see it, from raw per-collection counts."""
    table = Table()
    hierarchy(table, aggs, layout)
    empty = GroupCounts()
    groups = [(aggs.groups.get(c.id, empty), c.access) for c in layout.collections]
    built = facets(table, "subjects", specs, groups, policy, ("m", "subjects"))
    policy.apply(table)
    cells = table.cells
    return CohortSummary(
        subjects=policy.count(cells[("m", "subjects")]),
        studies=policy.count(cells[("m", "studies")]),
        series=policy.count(cells[("m", "series")]),
        sites=site_results(table, layout, policy),
        facets=facet_results(table, built, policy),
        threshold=policy.threshold,
        engine=engine,
    )


def _page(backend: SearchBackend, request: SearchRequest, query: SearchQuery) -> tuple[Page, int]:
    """One page from the query's cursor position, and the walk's total."""
    request, known = _at(request, query, backend.name)
    page = backend.search(request)
    total = page.total if page.total is not None else known
    assert total is not None
    return page, total


def _at(
    request: SearchRequest, query: SearchQuery, engine: str
) -> tuple[SearchRequest, int | None]:
    """The request positioned after the query's cursor (checked against the query and engine),
    and the total the cursor carries."""
    position = decode_cursor(query, engine)
    if position is None:
        return request, None
    after = position.after
    if len(after) != len(request.sort) + 1 or not all(
        v is None or isinstance(v, str | int | float) for v in after
    ):
        raise ValidationError(
            "invalid query", [ErrorDetail("not a cursor of this query", "cursor")]
        )
    moved = SearchRequest(
        request.kind, request.text, request.filter, request.scope, request.sort, request.size,
        after, count_total=False,
    )  # fmt: skip
    return moved, position.total


def backend_from_settings(settings: Settings) -> SearchBackend:
    """The configured backend: the embedded index under the data directory, or Elasticsearch."""
    if settings.search_backend == "elasticsearch":
        from catalogue.search.elasticsearch import ElasticsearchBackend

        key = settings.elasticsearch_api_key
        return ElasticsearchBackend(
            str(settings.elasticsearch_url).rstrip("/"),
            prefix=settings.elasticsearch_index_prefix,
            api_key=key.get_secret_value() if key else None,
        )
    from catalogue.search.embedded import EmbeddedBackend

    return EmbeddedBackend(embedded_directory(settings.data_dir))


def embedded_directory(data_dir: Path) -> Path:
    return data_dir / "search"
