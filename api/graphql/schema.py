"""The GraphQL schema. Resolvers are thin: read the identity, call a service, convert."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.fastapi import BaseContext

from catalogue import __version__
from catalogue.access import ANONYMOUS, Identity
from catalogue.services.overview import CollectionSummary, OverviewService, SiteSummary
from catalogue.services.overview import Count as CountModel


class Context(BaseContext):
    def __init__(self, overview: OverviewService, node_name: str) -> None:
        super().__init__()
        self.overview = overview
        self.node_name = node_name
        self.identity: Identity = ANONYMOUS


@strawberry.enum(description="Who may see a collection's records.")
class Visibility(Enum):
    PUBLIC = "public"
    REGISTERED = "registered"
    AGGREGATE = "aggregate"
    PRIVATE = "private"


@strawberry.type(description="A count as the caller may see it; `value` is null when suppressed.")
class Count:
    value: int | None
    suppressed: bool
    threshold: int | None = strawberry.field(
        description="Suppressed counts are at least 1 and below this."
    )

    @classmethod
    def of(cls, count: CountModel) -> Count:
        return cls(value=count.value, suppressed=count.suppressed, threshold=count.threshold)


@strawberry.type(description="A group of subjects at one site: an XNAT project, a PACS export, ...")
class Collection:
    id: strawberry.ID
    iri: str
    title: str
    description: str
    visibility: Visibility
    site_slug: str
    access_url: str | None
    subjects: Count
    studies: Count
    series: Count

    @classmethod
    def of(cls, c: CollectionSummary) -> Collection:
        return cls(
            id=strawberry.ID(str(c.id)),
            iri=c.iri,
            title=c.title,
            description=c.description,
            visibility=Visibility(c.visibility.value),
            site_slug=c.site_slug,
            access_url=c.access_url,
            subjects=Count.of(c.subjects),
            studies=Count.of(c.studies),
            series=Count.of(c.series),
        )


@strawberry.type(description="An institution holding images.")
class Site:
    id: strawberry.ID
    iri: str
    slug: str
    name: str
    collections: list[Collection]

    @classmethod
    def of(cls, s: SiteSummary) -> Site:
        return cls(
            id=strawberry.ID(str(s.id)),
            iri=s.iri,
            slug=s.slug,
            name=s.name,
            collections=[Collection.of(c) for c in s.collections],
        )


@strawberry.type(description="This node.")
class Node:
    name: str
    version: str


@strawberry.type
class Query:
    @strawberry.field(description="This node's name and software version.")
    def node(self, info: strawberry.Info[Context, None]) -> Node:
        return Node(name=info.context.node_name, version=__version__)

    @strawberry.field(description="Sites with the collections the caller may see.")
    def sites(self, info: strawberry.Info[Context, None]) -> list[Site]:
        ctx = info.context
        return [Site.of(s) for s in ctx.overview.sites(ctx.identity)]

    @strawberry.field(description="Collections the caller may see, optionally of one site.")
    def collections(
        self, info: strawberry.Info[Context, None], site: str | None = None
    ) -> list[Collection]:
        ctx = info.context
        return [Collection.of(c) for c in ctx.overview.collections(ctx.identity, site)]


schema = strawberry.Schema(query=Query)
