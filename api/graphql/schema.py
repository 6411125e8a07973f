"""The GraphQL schema. Resolvers are thin: take the identity from the context, call a service,
convert. Access rules live in the services; errors get their codes in `api.graphql.errors`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.graphql import access, cohorts, datasets, limits, ontology, operations, relay
from api.graphql import changes as feed
from api.graphql import search as search_types
from api.graphql.context import Context, blocking
from api.graphql.errors import ErrorCodes
from api.graphql.types import Collection, Series, Site, Study, Subject
from catalogue import __version__
from catalogue.errors import ErrorDetail, NotFoundError, ValidationError
from catalogue.services.records import ChildKind

Info = strawberry.Info[Context, None]
First = Annotated[
    int | None, strawberry.argument(description=f"Page size, at most {relay.MAX_PAGE}.")
]
After = Annotated[str | None, strawberry.argument(description="Resume after this cursor.")]
# `Query.datasets` hides the module inside the class body
DatasetPage = relay.Connection[datasets.Dataset]
Licence = datasets.Licence
Id = Annotated[strawberry.ID | None, strawberry.argument(description="The record's id.")]
Iri = Annotated[str | None, strawberry.argument(description="The record's IRI.")]


@strawberry.type(description="This node.")
class Node:
    name: str
    version: str


def _one_key(id: str | None, iri: str | None) -> None:
    if (id is None) == (iri is None):
        raise ValidationError("give either id or iri", [ErrorDetail("give one", "id")])


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFoundError("no such record") from None


async def _record(info: Info, kind: ChildKind, id: str | None, iri: str | None) -> Any:
    _one_key(id, iri)
    if id is not None:
        loader = getattr(info.context.loaders, kind)
        found = await loader.load(_uuid(id))
    else:
        found = await blocking(info.context.reader.by_iri, kind, iri)
    if found is None:
        raise NotFoundError(f"no {kind[:-1] if kind != 'series' else kind} with that id or IRI")
    return found


@strawberry.type
class Query:
    @strawberry.field(description="This node's name and software version.")
    def node(self, info: Info) -> Node:
        return Node(name=info.context.node_name, version=__version__)

    @strawberry.field(description="Who is asking, as this node knows them, with their grants.")
    async def me(self, info: Info) -> access.Me:
        return await access.me(info)

    @strawberry.field(
        description="Queries that touched non-public collections, newest first (administrators "
        "and clients with `audit:read`)."
    )
    async def audit_log(
        self,
        info: Info,
        subject: str | None = None,
        action: str | None = None,
        first: First = None,
        after: After = None,
    ) -> relay.Connection[access.AuditEntry]:
        return await access.audit_log(info, subject, action, first, after)

    @strawberry.field(
        description="Search one kind of record; hits only from what the caller may read."
    )
    async def search(
        self, info: Info, query: search_types.SearchInput, first: First = None, after: After = None
    ) -> search_types.SearchConnection:
        return await search_types.search(info, query, first, after)

    @strawberry.field(description="Count a cohort of subjects per site and collection.")
    async def cohort(self, info: Info, query: search_types.CohortInput) -> search_types.Cohort:
        return await search_types.cohort(info, query)

    @strawberry.field(description="The fields a search can filter, facet and sort on.")
    def search_fields(self) -> list[search_types.SearchField]:
        return search_types.search_fields()

    @strawberry.field(description="A subject by id or IRI.")
    async def subject(self, info: Info, id: Id = None, iri: Iri = None) -> Subject:
        return Subject.of(await _record(info, "subjects", id, iri))

    @strawberry.field(description="An imaging study by id or IRI.")
    async def study(self, info: Info, id: Id = None, iri: Iri = None) -> Study:
        return Study.of(await _record(info, "studies", id, iri))

    @strawberry.field(description="A series by id or IRI.")
    async def series(self, info: Info, id: Id = None, iri: Iri = None) -> Series:
        return Series.of(await _record(info, "series", id, iri))

    @strawberry.field(description="Sites with the collections the caller may see, by slug.")
    async def sites(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[Site]:
        found = await info.context.loaders.sites()
        return relay.sliced([Site.of(s) for s in found], lambda s: s.slug, first, after)

    @strawberry.field(description="A site by id, IRI or slug.")
    async def site(
        self, info: Info, id: Id = None, iri: Iri = None, slug: str | None = None
    ) -> Site:
        if sum(v is not None for v in (id, iri, slug)) != 1:
            raise ValidationError("give one of id, iri, slug", [ErrorDetail("give one", "id")])
        for s in await info.context.loaders.sites():
            if str(s.id) == id or (iri is not None and s.iri == iri) or s.slug == slug:
                return Site.of(s)
        raise NotFoundError("no site with that id, IRI or slug")

    @strawberry.field(description="Collections the caller may see, optionally of one site.")
    async def collections(
        self, info: Info, site: str | None = None, first: First = None, after: After = None
    ) -> relay.Connection[Collection]:
        found = [
            Collection.of(c)
            for s in await info.context.loaders.sites()
            if site is None or s.slug == site
            for c in s.collections
        ]
        return relay.sliced(found, lambda c: str(c.id), first, after)

    @strawberry.field(description="A collection by id or IRI.")
    async def collection(self, info: Info, id: Id = None, iri: Iri = None) -> Collection:
        _one_key(id, iri)
        for s in await info.context.loaders.sites():
            for c in s.collections:
                if str(c.id) == id or (iri is not None and c.iri == iri):
                    return Collection.of(c)
        raise NotFoundError("no collection with that id or IRI")

    @strawberry.field(description="The sources this node harvests, with status and freshness.")
    async def sources(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[operations.Source]:
        return await operations.sources(info, first, after)

    @strawberry.field(
        description="Changes to published records after a cursor, in commit order: what a hub's "
        "`peer` harvester reads (API key required; only collections it may read at record level)."
    )
    async def changes(
        self, info: Info, first: feed.First = 100, after: feed.After = None
    ) -> feed.ChangeFeedPage:
        page = await blocking(
            info.context.services.changes.changes, info.context.identity, after, first
        )
        return feed.convert(page)

    @strawberry.field(description="A dataset by id, slug or DOI (concept or version).")
    async def dataset(self, info: Info, key: str) -> datasets.Dataset:
        return await datasets.dataset(info, key)

    @strawberry.field(
        description="Datasets the caller may read, most recently changed first (administrators "
        "see drafts too; others, datasets with a published version)."
    )
    async def datasets(self, info: Info, first: First = None, after: After = None) -> DatasetPage:
        return await datasets.datasets(info, first, after)

    @strawberry.field(description="The SPDX licences dataset metadata accepts, by id.")
    def dataset_licences(self) -> list[Licence]:
        return datasets.licences()

    @strawberry.field(description="An ontology term by CURIE (`SCT:12738006`) or IRI.")
    async def term(self, info: Info, id: str, counts: ontology.Counts = False) -> ontology.Term:
        return await ontology.term(info, id, counts)

    @strawberry.field(
        description="Terms whose label or synonym starts with `prefix` (optionally only those a "
        "coded field accepts), or the terms `below` one, nearest first; at most `first` (100)."
    )
    async def terms(
        self,
        info: Info,
        prefix: str | None = None,
        below: str | None = None,
        field: str | None = None,
        first: int = 10,
        counts: ontology.Counts = False,
    ) -> list[ontology.Term]:
        return await ontology.terms(info, prefix, below, field, first, counts)

    @strawberry.field(
        description="Coded values waiting for a curator, most records first (curators)."
    )
    async def curation_queue(
        self, info: Info, field: str | None = None, source: str | None = None, first: int = 100
    ) -> list[ontology.CurationItem]:
        return await ontology.curation_queue(info, field, source, first)

    @strawberry.field(description="The caller's saved cohorts, by name (signed-in people).")
    async def saved_cohorts(
        self, info: Info, first: First = None, after: After = None
    ) -> relay.Connection[cohorts.SavedCohort]:
        return await cohorts.saved_cohorts(info, first, after)

    @strawberry.field(description="Harvest runs, newest first, optionally of one source.")
    async def harvest_runs(
        self, info: Info, source: str | None = None, first: First = None, after: After = None
    ) -> relay.Connection[operations.HarvestRun]:
        return await operations.harvest_runs(info, source, first, after)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Start harvesting a configured source in the background (administrators)."
    )
    async def start_harvest(self, info: Info, source: str) -> operations.HarvestStart:
        return await operations.start_harvest(info, source)

    @strawberry.mutation(description="Create a draft dataset, frozen now (administrators).")
    async def create_dataset(self, info: Info, input: datasets.DatasetInput) -> datasets.Dataset:
        return await datasets.create(info, input)

    @strawberry.mutation(
        description="Edit a dataset's metadata (administrators): each field given replaces the "
        "stored one; problems come back located (`extensions.details`, e.g. `creators[0].orcid`)."
    )
    async def update_dataset_metadata(
        self, info: Info, id: strawberry.ID, metadata: JSON
    ) -> datasets.Dataset:
        return await datasets.update_metadata(info, id, metadata)

    @strawberry.mutation(
        description="A new draft version: the query run again, or the selection resolved again."
    )
    async def new_dataset_version(self, info: Info, id: strawberry.ID) -> datasets.Dataset:
        return await datasets.step(info, "new_version", id)

    @strawberry.mutation(
        description="Reserve the concept and draft version DOIs (shown, not public)."
    )
    async def reserve_dataset_doi(self, info: Info, id: strawberry.ID) -> datasets.Dataset:
        return await datasets.step(info, "reserve", id)

    @strawberry.mutation(description="Publish the draft version: its DOI findable, or registered.")
    async def publish_dataset(
        self, info: Info, id: strawberry.ID, findable: bool = True
    ) -> datasets.Dataset:
        return await datasets.step(info, "publish", id, findable)

    @strawberry.mutation(description="Take findable DOIs out of the registrar's search.")
    async def hide_dataset(self, info: Info, id: strawberry.ID) -> datasets.Dataset:
        return await datasets.step(info, "hide", id)

    @strawberry.mutation(description="Withdraw a dataset, leaving a tombstone with the reason.")
    async def withdraw_dataset(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> datasets.Dataset:
        return await datasets.step(info, "delete", id, reason)

    @strawberry.mutation(
        description="Accept the concept proposed for a coded value; every record with the value "
        "is re-mapped (curators)."
    )
    async def accept_mapping(
        self, info: Info, field: str, value: str, note: str = ""
    ) -> ontology.Remapping:
        return await ontology.accept_mapping(info, field, value, note)

    @strawberry.mutation(
        description="Map a coded value to another concept (CURIE or IRI), or to none (null); "
        "every record with the value is re-mapped (curators)."
    )
    async def override_mapping(
        self, info: Info, field: str, value: str, concept: str | None, note: str = ""
    ) -> ontology.Remapping:
        return await ontology.override_mapping(info, field, value, concept, note)

    @strawberry.mutation(
        description="Save the current cohort under a name; the caller's cohort of that name is "
        "replaced (signed-in people)."
    )
    async def save_cohort(
        self, info: Info, name: str, query: JSON, url_state: str = ""
    ) -> cohorts.SavedCohort:
        return await cohorts.save(info, name, query, url_state)

    @strawberry.mutation(description="Delete one of the caller's saved cohorts.")
    async def delete_saved_cohort(self, info: Info, id: strawberry.ID) -> bool:
        return await cohorts.delete(info, id)


class CatalogueSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Errors are logged once, without messages, where they get their codes."""


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_cost: int = 100_000
    introspection: bool = True
    persisted_queries: Path | None = None


def build_schema(limits_: Limits | None = None) -> strawberry.Schema:
    chosen = limits_ or Limits()
    extensions: list[Any] = [
        ErrorCodes,
        lambda: MaxTokensLimiter(limits.MAX_TOKENS),
        lambda: ParserCache(maxsize=256),  # clients send the same few documents over and over
        lambda: ValidationCache(maxsize=256),  # before the cost check, which may overrule it
        limits.aliases(limits.MAX_ALIASES),
        *limits.depth_and_cost(chosen.max_depth, chosen.max_cost),
    ]
    if not chosen.introspection:
        extensions.append(DisableIntrospection)
    if chosen.persisted_queries is not None:
        extensions += limits.allow_list(limits.AllowList.load(chosen.persisted_queries))
    return CatalogueSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        config=StrawberryConfig(scalar_map={search_types.FieldValue: search_types.FIELD_VALUE}),
    )


schema = build_schema()  # the published schema (SDL in schema.graphql); limits do not change it
