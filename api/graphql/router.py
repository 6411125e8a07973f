"""The `/graphql` endpoint: the schema with this node's limits, and a context per request."""

from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import GraphQLRouter

from api.graphql.context import Context, Services
from api.graphql.schema import Limits, build_schema
from catalogue.settings import Settings


def graphql_router(settings: Settings, services: Services) -> GraphQLRouter[Context, None]:
    schema = build_schema(
        Limits(
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_cost,
            introspection=settings.graphql_introspection,
            persisted_queries=settings.graphql_persisted_queries,
        )
    )

    async def context(request: Request) -> Context:
        return Context(services, await services.identify(request))

    return GraphQLRouter(
        schema,
        context_getter=context,
        graphql_ide="graphiql" if settings.graphiql else None,
    )
