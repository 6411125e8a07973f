"""Record types: sites, collections, subjects, studies, series. Nested lists are connections
resolved through the request's DataLoaders."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

import strawberry
from pydantic import BaseModel

from api.graphql import relay
from api.graphql.context import Context, blocking
from catalogue.search.suppression import Count as SearchCount
from catalogue.services.overview import CollectionSummary, SiteSummary
from catalogue.services.overview import Count as OverviewCount
from catalogue.services.records import (
    ChildKind,
    CodedView,
    Parent,
    SeriesView,
    StudyView,
    SubjectView,
)

Info = strawberry.Info[Context, None]
T = TypeVar("T")
N = TypeVar("N")


def _view_fields(view: type[BaseModel], hidden: frozenset[str]) -> Callable[[type[T]], type[T]]:
    """Give a record type the fields of its service view but `hidden`, in the view's order, so a
    field added to the view reaches GraphQL by itself. What the class declares itself (another
    type, a description, a field its resolvers read) stands in its view field's place; the rest
    follows the view's fields."""

    def add(cls: type[T]) -> type[T]:
        own: dict[str, Any] = dict(cls.__annotations__)
        fields = {
            name: own.pop(name, field.annotation)
            for name, field in view.model_fields.items()
            if name not in hidden
        }
        cls.__annotations__ = {**fields, **own}
        return cls

    return add


@strawberry.enum(description="Who may see a collection's records.")
class Visibility(Enum):
    PUBLIC = "public"
    REGISTERED = "registered"
    AGGREGATE = "aggregate"
    PRIVATE = "private"


@strawberry.enum
class Sex(Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


@strawberry.type(
    description="A count as the caller may see it. Suppressed: `value` is null and `display` "
    'reads "fewer than k"; the true count is more than `atLeast`.'
)
class Count:
    value: int | None
    suppressed: bool
    threshold: int | None = strawberry.field(
        description="The suppression threshold k, on suppressed counts."
    )
    at_least: int = strawberry.field(
        default=0, description="The part of a suppressed count the caller may know exactly."
    )

    @strawberry.field(description='The count for people: "12", or "fewer than 5".')
    def display(self) -> str:
        if self.suppressed:
            return f"fewer than {self.threshold}"
        return str(self.value)

    @classmethod
    def of(cls, count: OverviewCount | SearchCount) -> Count:
        return cls(
            value=count.value,
            suppressed=count.suppressed,
            threshold=count.threshold,
            at_least=getattr(count, "at_least", 0),
        )


@strawberry.type(description="How many records of each level.")
class RecordCounts:
    subjects: Count
    studies: Count
    series: Count


@strawberry.type(description="A coded field: what the site said, and the concept it maps to.")
@_view_fields(CodedView, frozenset())
class CodedValue:
    method: str = strawberry.field(description="How it was mapped: exact-code, label, rule, ...")

    @classmethod
    def of(cls, v: CodedView) -> CodedValue:
        return cls(**v.model_dump())


async def _children(
    info: Info,
    kind: ChildKind,
    parent: Parent,
    parent_id: uuid.UUID,
    first: int | None,
    after: str | None,
    node: Callable[[Any], N],
) -> relay.Connection[N]:
    """A page of a record's children of `kind`, in id order, each made a node by `node`."""
    start = relay.decode_id(after)
    key = (kind, parent, parent_id, relay.page_size(first), start)
    found = await info.context.loaders.children.load(key)

    async def count() -> int:
        return await info.context.loaders.counts.load((kind, parent, parent_id))

    return relay.by_id(
        [node(i) for i in found.items],
        [i.id for i in found.items],
        has_next=found.has_next,
        after=start,
        counter=count,
    )


First = Annotated[
    int | None, strawberry.argument(description=f"Page size, at most {relay.MAX_PAGE}.")
]
After = Annotated[str | None, strawberry.argument(description="Resume after this cursor.")]


_SERIES_HIDDEN = frozenset({"study_id", "subject_id", "collection_id"})
_STUDY_HIDDEN = frozenset({"subject_id", "collection_id"})
_SUBJECT_HIDDEN = frozenset({"collection_id"})


@strawberry.type(description="One series or scan, and where an authorised user fetches it.")
@_view_fields(SeriesView, _SERIES_HIDDEN)
class Series:
    id: strawberry.ID
    annotations: bool = strawberry.field(description="SEG, RTSTRUCT or SR present.")
    year: int | None = strawberry.field(description="Year of acquisition.")
    view: strawberry.Private[SeriesView]

    @classmethod
    def of(cls, v: SeriesView) -> Series:
        data = v.model_dump(exclude={"id", *_SERIES_HIDDEN})
        return cls(id=strawberry.ID(str(v.id)), view=v, **data)

    @strawberry.field(description="Coded fields with their concepts.")
    async def coded(self, info: Info) -> list[CodedValue]:
        values = await info.context.loaders.coded.load(("series", self.view.id))
        return [CodedValue.of(v) for v in values]

    @strawberry.field
    async def study(self, info: Info) -> Study | None:
        found = await info.context.loaders.studies.load(self.view.study_id)
        return Study.of(found) if found else None

    @strawberry.field
    async def collection(self, info: Info) -> Collection | None:
        return await _collection(info, self.view.collection_id)


@strawberry.type(description="One imaging session or DICOM study; dates survive as year and age.")
@_view_fields(StudyView, _STUDY_HIDDEN)
class Study:
    id: strawberry.ID
    age_years: float | None = strawberry.field(description="Age of the subject at the study.")
    view: strawberry.Private[StudyView]

    @classmethod
    def of(cls, v: StudyView) -> Study:
        data = v.model_dump(exclude={"id", *_STUDY_HIDDEN})
        return cls(id=strawberry.ID(str(v.id)), view=v, **data)

    @strawberry.field(description="The study's series, in id order.")
    async def series(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Series]:
        return await _children(info, "series", "study", self.view.id, first, after, Series.of)

    @strawberry.field
    async def subject(self, info: Info) -> Subject | None:
        found = await info.context.loaders.subjects.load(self.view.subject_id)
        return Subject.of(found) if found else None

    @strawberry.field
    async def collection(self, info: Info) -> Collection | None:
        return await _collection(info, self.view.collection_id)


@strawberry.type(description="A person or animal, known to the catalogue only by a pseudonym.")
@_view_fields(SubjectView, _SUBJECT_HIDDEN)
class Subject:
    id: strawberry.ID
    sex: Sex
    group: str | None = strawberry.field(description="Study arm, e.g. patient, control.")
    view: strawberry.Private[SubjectView]

    @classmethod
    def of(cls, v: SubjectView) -> Subject:
        data = v.model_dump(exclude={"id", "sex", *_SUBJECT_HIDDEN})
        return cls(id=strawberry.ID(str(v.id)), sex=Sex(v.sex.value), view=v, **data)

    @strawberry.field(description="Coded fields (diagnosis, species) with their concepts.")
    async def coded(self, info: Info) -> list[CodedValue]:
        values = await info.context.loaders.coded.load(("subjects", self.view.id))
        return [CodedValue.of(v) for v in values]

    @strawberry.field(description="The subject's studies, in id order.")
    async def studies(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Study]:
        return await _children(info, "studies", "subject", self.view.id, first, after, Study.of)

    @strawberry.field
    async def collection(self, info: Info) -> Collection | None:
        return await _collection(info, self.view.collection_id)


_COLLECTION_COUNTS = frozenset({"subjects", "studies", "series"})  # as `counts`


@strawberry.type(description="A group of subjects at one site: an XNAT project, a PACS export, ...")
@_view_fields(CollectionSummary, _COLLECTION_COUNTS)
class Collection:
    id: strawberry.ID
    visibility: Visibility
    site_slug: str  # (read by `site`)
    counts: RecordCounts = strawberry.field(
        description="Subjects, studies and series held, suppressed where aggregate-only."
    )

    @classmethod
    def of(cls, c: CollectionSummary) -> Collection:
        return cls(
            id=strawberry.ID(str(c.id)),
            visibility=Visibility(c.visibility.value),
            **c.model_dump(exclude={"id", "visibility", *_COLLECTION_COUNTS}),
            counts=RecordCounts(
                subjects=Count.of(c.subjects),
                studies=Count.of(c.studies),
                series=Count.of(c.series),
            ),
        )

    @strawberry.field(
        description="The collection's subjects, in id order (`FORBIDDEN` where it shares counts "
        "only)."
    )
    async def subjects(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Subject]:
        collection_id = uuid.UUID(self.id)
        await blocking(info.context.reader.require_records, collection_id)
        return await _children(
            info, "subjects", "collection", collection_id, first, after, Subject.of
        )

    @strawberry.field
    async def site(self, info: Info) -> Site | None:
        for s in await info.context.loaders.sites():
            if s.slug == self.site_slug:
                return Site.of(s)
        return None


@strawberry.type(description="An institution holding images.")
class Site:
    id: strawberry.ID
    iri: str
    slug: str
    name: str
    summary: strawberry.Private[SiteSummary]

    @classmethod
    def of(cls, s: SiteSummary) -> Site:
        return cls(id=strawberry.ID(str(s.id)), iri=s.iri, slug=s.slug, name=s.name, summary=s)

    @strawberry.field(description="Collections of this site the caller may see.")
    def collections(self, first: First = None, after: After = None) -> relay.Connection[Collection]:
        items = [Collection.of(c) for c in self.summary.collections]
        return relay.sliced(items, lambda c: str(c.id), first, after)


async def _collection(info: Info, collection_id: uuid.UUID) -> Collection | None:
    found = await info.context.loaders.collection(collection_id)
    return Collection.of(found) if found else None
