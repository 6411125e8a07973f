"""The search query model as GraphQL input types, and search and cohort results.

Inputs are turned into the plain query document `catalogue.search.query.validate_query` checks,
so GraphQL and every other adapter share one validation: a malformed query is `BAD_USER_INPUT`
with the located problems in `extensions.details`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, NewType

import strawberry
from graphql import ValueNode
from graphql.language import BooleanValueNode, FloatValueNode, IntValueNode, StringValueNode

from api.graphql import relay
from api.graphql.context import Context, blocking
from api.graphql.types import Collection, Count, Series, Study, Subject
from catalogue.errors import ErrorDetail, ValidationError
from catalogue.search._summary import CollectionCounts, FacetResult, SiteCounts
from catalogue.search.fields import FIELDS
from catalogue.search.service import CohortSummary, SearchHit
from catalogue.services.federation import SiteStatus

Info = strawberry.Info[Context, None]


def _parse_value(value: Any) -> Any:
    if isinstance(value, str | int | float | bool):
        return value
    raise ValueError("expects a string, number or boolean")


def _parse_literal(node: ValueNode, _variables: Any = None) -> Any:
    if isinstance(node, StringValueNode | BooleanValueNode):
        return node.value
    if isinstance(node, IntValueNode):
        return int(node.value)
    if isinstance(node, FloatValueNode):
        return float(node.value)
    raise ValueError("expects a string, number or boolean")


FieldValue = NewType("FieldValue", object)
FIELD_VALUE = strawberry.scalar(
    name="FieldValue",
    description="A value of a search field: a string, number or boolean (dates as ISO strings).",
    serialize=lambda v: v,
    parse_value=_parse_value,
    parse_literal=_parse_literal,
)


@strawberry.enum(description="What a search returns.")
class ResultKind(Enum):
    SUBJECTS = "subjects"
    STUDIES = "studies"
    SERIES = "series"
    COLLECTIONS = "collections"
    DATASETS = "datasets"


@strawberry.enum
class SortOrder(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.input(description="The field equals the value.")
class TermInput:
    field: str
    value: FieldValue


@strawberry.input(description="The field equals one of the values.")
class TermsInput:
    field: str
    values: list[FieldValue]


@strawberry.input(description="A number or date field within bounds (give at least one).")
class RangeInput:
    field: str
    gte: FieldValue | None = None
    gt: FieldValue | None = None
    lte: FieldValue | None = None
    lt: FieldValue | None = None


@strawberry.input(description="The field has a value.")
class ExistsInput:
    field: str


@strawberry.input(description="A coded field maps to the concept (or, by default, a descendant).")
class ConceptInput:
    field: str
    iri: str
    include_descendants: bool = True


@strawberry.input(
    one_of=True,
    description="One clause. `hasSeries` / `hasStudy` hold a predicate one series (study) of "
    "the same subject must satisfy; two `hasSeries` in an `and` may be two different series.",
)
class FilterInput:
    term: TermInput | None = strawberry.UNSET
    terms: TermsInput | None = strawberry.UNSET
    range: RangeInput | None = strawberry.UNSET
    exists: ExistsInput | None = strawberry.UNSET
    concept: ConceptInput | None = strawberry.UNSET
    text: str | None = strawberry.UNSET
    and_: list[FilterInput] | None = strawberry.field(name="and", default=strawberry.UNSET)
    or_: list[FilterInput] | None = strawberry.field(name="or", default=strawberry.UNSET)
    not_: FilterInput | None = strawberry.field(name="not", default=strawberry.UNSET)
    has_study: FilterInput | None = strawberry.UNSET
    has_series: FilterInput | None = strawberry.UNSET


@strawberry.input(description="Count hits per value of a field (the `size` most frequent).")
class TermsFacetInput:
    field: str
    size: int = 10


@strawberry.input(description="Count hits per bin [min + i*interval, min + (i+1)*interval).")
class HistogramFacetInput:
    field: str
    interval: float
    min: float
    max: float


@strawberry.input(one_of=True)
class FacetInput:
    terms: TermsFacetInput | None = strawberry.UNSET
    histogram: HistogramFacetInput | None = strawberry.UNSET


@strawberry.input
class SortInput:
    field: str = strawberry.field(description="A single-valued field, or `_score` with text.")
    order: SortOrder = SortOrder.ASC


@strawberry.input(description="A search: free text and a filter over one kind of record.")
class SearchInput:
    kind: ResultKind = ResultKind.SUBJECTS
    text: str | None = None
    filter: FilterInput | None = None
    facets: list[FacetInput] | None = None
    sort: list[SortInput] | None = None


@strawberry.input(description="A cohort: subjects matching free text and a filter.")
class CohortInput:
    text: str | None = None
    filter: FilterInput | None = None
    facets: list[FacetInput] | None = None


# -- inputs to the query document ------------------------------------------------------------
MAX_INPUT_DEPTH = 40  # the query model allows far less; this only stops runaway recursion here


def _given(value: Any) -> bool:
    return value is not None and value is not strawberry.UNSET


def filter_document(node: FilterInput, depth: int = 0) -> dict[str, Any]:
    if depth > MAX_INPUT_DEPTH:
        raise ValidationError("invalid query", [ErrorDetail("nested too deeply", "filter")])
    leaves: dict[str, Any] = {
        "term": lambda t: {"op": "term", "field": t.field, "value": t.value},
        "terms": lambda t: {"op": "terms", "field": t.field, "values": list(t.values)},
        "range": lambda r: (
            {"op": "range", "field": r.field}
            | {k: getattr(r, k) for k in ("gte", "gt", "lte", "lt") if _given(getattr(r, k))}
        ),
        "exists": lambda e: {"op": "exists", "field": e.field},
        "concept": lambda c: {
            "op": "concept",
            "field": c.field,
            "iri": c.iri,
            "descendants": c.include_descendants,
        },
        "text": lambda t: {"op": "text", "text": t},
        "and_": lambda a: {"op": "and", "all": [filter_document(f, depth + 1) for f in a]},
        "or_": lambda o: {"op": "or", "any": [filter_document(f, depth + 1) for f in o]},
        "not_": lambda n: {"op": "not", "filter": filter_document(n, depth + 1)},
        "has_study": lambda w: {"op": "has_study", "where": filter_document(w, depth + 1)},
        "has_series": lambda w: {"op": "has_series", "where": filter_document(w, depth + 1)},
    }
    for name, build in leaves.items():
        value = getattr(node, name)
        if _given(value):
            return build(value)  # type: ignore[no-any-return]
    raise ValidationError("invalid query", [ErrorDetail("give one clause", "filter")])


def facet_documents(facets: list[FacetInput] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for facet in facets or []:
        t, h = facet.terms, facet.histogram
        if t is not None and t is not strawberry.UNSET:
            out.append({"type": "terms", "field": t.field, "size": t.size})
        elif h is not None and h is not strawberry.UNSET:
            out.append(
                {"type": "histogram", "field": h.field, "interval": h.interval}
                | {"min": h.min, "max": h.max}
            )
    return out


def search_document(query: SearchInput | CohortInput, kind: str = "subjects") -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": kind, "facets": facet_documents(query.facets)}
    if query.text is not None:
        doc["text"] = query.text
    if query.filter is not None:
        doc["filter"] = filter_document(query.filter)
    if isinstance(query, SearchInput) and query.sort:
        doc["sort"] = [{"field": s.field, "order": s.order.value} for s in query.sort]
    return doc


# -- results ---------------------------------------------------------------------------------
@strawberry.type(description="A facet bucket: a value, or a histogram bin [low, high).")
class Bucket:
    value: FieldValue
    low: float | None
    high: float | None
    count: Count


@strawberry.type
class Facet:
    field: str
    type: str = strawberry.field(description="`terms` or `histogram`.")
    buckets: list[Bucket]
    other: Count | None = strawberry.field(
        description="Further values (terms beyond `size`) or values outside the bins."
    )
    missing: Count = strawberry.field(description="Hits without a value.")

    @classmethod
    def of(cls, f: FacetResult) -> Facet:
        return cls(
            field=f.field,
            type=f.type,
            buckets=[
                Bucket(value=FieldValue(b.value), low=b.low, high=b.high, count=Count.of(b.count))
                for b in f.buckets
            ],
            other=Count.of(f.other) if f.other is not None else None,
            missing=Count.of(f.missing),
        )


@strawberry.type(description="A hit on a dataset.")
class DatasetHit:
    id: strawberry.ID
    iri: str | None


SearchNode = Annotated[
    Subject | Study | Series | Collection | DatasetHit,
    strawberry.union("SearchNode", description="The record a search hit names."),
]


@strawberry.type(description="One search hit: the record, its relevance, where it lives.")
class SearchEdge:
    cursor: str
    score: float | None
    kind: ResultKind
    id: strawberry.ID
    iri: str | None
    site_slug: str | None
    collection_id: strawberry.ID | None
    hit: strawberry.Private[SearchHit]

    @strawberry.field(description="The record (null if it became invisible since indexing).")
    async def node(self, info: Info) -> SearchNode | None:
        loaders, record_id = info.context.loaders, uuid.UUID(self.hit.id)
        if self.hit.kind == "subjects":
            found = await loaders.subjects.load(record_id)
            return Subject.of(found) if found else None
        if self.hit.kind == "studies":
            found = await loaders.studies.load(record_id)
            return Study.of(found) if found else None
        if self.hit.kind == "series":
            found = await loaders.series.load(record_id)
            return Series.of(found) if found else None
        if self.hit.kind == "collections":
            summary = await loaders.collection(record_id)
            return Collection.of(summary) if summary else None
        return DatasetHit(id=strawberry.ID(self.hit.id), iri=self.hit.iri)


@strawberry.type(description="A page of search hits, their total and facets.")
class SearchConnection:
    edges: list[SearchEdge]
    page_info: relay.PageInfo
    total_count: int
    facets: list[Facet]
    engine: str = strawberry.field(description="The search engine that answered.")


@strawberry.type
class CohortCollection:
    id: strawberry.ID
    title: str
    subjects: Count
    studies: Count
    series: Count

    @classmethod
    def of(cls, c: CollectionCounts) -> CohortCollection:
        return cls(
            id=strawberry.ID(c.id),
            title=c.title,
            subjects=Count.of(c.subjects),
            studies=Count.of(c.studies),
            series=Count.of(c.series),
        )


@strawberry.type
class CohortSite:
    slug: str
    name: str
    subjects: Count
    studies: Count
    series: Count
    collections: list[CohortCollection]

    @classmethod
    def of(cls, s: SiteCounts) -> CohortSite:
        return cls(
            slug=s.slug,
            name=s.name,
            subjects=Count.of(s.subjects),
            studies=Count.of(s.studies),
            series=Count.of(s.series),
            collections=[CohortCollection.of(c) for c in s.collections],
        )


@strawberry.type(
    description="Distinct subjects matching a cohort query with their studies and series, per "
    "site and collection, with facets over subjects; small counts of aggregate-only collections "
    "are suppressed consistently across all of them."
)
class Cohort:
    subjects: Count
    studies: Count
    series: Count
    sites: list[CohortSite]
    facets: list[Facet]
    threshold: int
    engine: str
    site_status: list[CohortSiteStatus] = strawberry.field(
        description="Per site: counted from this node's index (as of its last harvest), asked "
        "live, or unavailable and why."
    )
    partial: bool = strawberry.field(
        description="Some site configured for live counts did not answer: its counts are missing."
    )

    @classmethod
    def of(cls, c: CohortSummary, status: list[SiteStatus], partial: bool) -> Cohort:
        return cls(
            subjects=Count.of(c.subjects),
            studies=Count.of(c.studies),
            series=Count.of(c.series),
            sites=[CohortSite.of(s) for s in c.sites],
            facets=[Facet.of(f) for f in c.facets],
            threshold=c.threshold,
            engine=c.engine,
            site_status=[CohortSiteStatus.of(s) for s in status],
            partial=partial,
        )


@strawberry.type(description="Where one site's counts in a cohort answer come from.")
class CohortSiteStatus:
    slug: str
    origin: str = strawberry.field(description="`index`, `live` or `unavailable`.")
    as_of: datetime | None = strawberry.field(
        description="Index: when the site was last harvested here."
    )
    reason: str | None = strawberry.field(description="Unavailable: why.")

    @classmethod
    def of(cls, s: SiteStatus) -> CohortSiteStatus:
        return cls(slug=s.slug, origin=s.origin, as_of=s.as_of, reason=s.reason)


@strawberry.type(description="A field the search can filter, facet or sort on.")
class SearchField:
    name: str
    level: str = strawberry.field(description="collection, subject, study, series or dataset.")
    type: str = strawberry.field(description="keyword, integer, float, boolean or date.")
    multi: bool = strawberry.field(description="Holds several values.")
    description: str


def search_fields() -> list[SearchField]:
    return [
        SearchField(
            name=f.name,
            level=f.level.value,
            type=f.type.value,
            multi=f.multi,
            description=f.description,
        )
        for f in FIELDS.values()
    ]


# -- paging ----------------------------------------------------------------------------------
# A GraphQL search cursor is (the service's cursor where a page starts, an offset into it): every
# edge gets a cursor, and resuming after edge i re-reads at most one page and drops i + 1 hits.


async def search(
    info: Info, query: SearchInput, first: int | None, after: str | None
) -> SearchConnection:
    size = relay.page_size(first)
    start, offset = _position(after)
    doc = search_document(query, query.kind.value) | {"size": offset + size, "cursor": start}
    result = await blocking(info.context.services.search.search, info.context.identity, doc)
    hits = result.hits[offset:]
    cursors = [relay.encode([start, offset + i + 1]) for i in range(len(hits))]
    if hits and result.cursor is not None:
        cursors[-1] = relay.encode([result.cursor, 0])
    edges = [
        SearchEdge(
            cursor=c,
            score=h.score,
            kind=ResultKind(h.kind),
            id=strawberry.ID(h.id),
            iri=h.iri,
            site_slug=h.site,
            collection_id=strawberry.ID(h.collection) if h.collection else None,
            hit=h,
        )
        for h, c in zip(hits, cursors, strict=True)
    ]
    info_ = relay.PageInfo(
        has_next_page=result.cursor is not None and len(hits) == size,
        has_previous_page=after is not None,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
    return SearchConnection(
        edges=edges,
        page_info=info_,
        total_count=result.total,
        facets=[Facet.of(f) for f in result.facets],
        engine=result.engine,
    )


def _position(after: str | None) -> tuple[str | None, int]:
    value = relay.decode(after)
    if value is None:
        return None, 0
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not (value[0] is None or isinstance(value[0], str))
        or not isinstance(value[1], int)
        or not 0 <= value[1] <= relay.MAX_PAGE
    ):
        raise ValidationError("invalid cursor", [ErrorDetail("not a search cursor", "after")])
    return value[0], value[1]


async def cohort(info: Info, query: CohortInput) -> Cohort:
    doc = search_document(query)
    federation = info.context.services.federation
    answer = await blocking(federation.cohort, info.context.identity, doc)
    return Cohort.of(answer.cohort, answer.status, answer.partial)
