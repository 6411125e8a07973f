"""Saved cohorts over GraphQL: a signed-in person's named cohort queries, thin over
`SavedCohortService` (owner-only: nobody sees or deletes another's)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.graphql import relay
from api.graphql.context import Context, blocking
from catalogue.errors import NotFoundError
from catalogue.services.cohorts import SavedCohortView

Info = strawberry.Info[Context, None]


@strawberry.type(description="A cohort query its owner saved under a name (only they see it).")
class SavedCohort:
    id: strawberry.ID
    name: str
    query: JSON = strawberry.field(description="The cohort query (a `CohortInput`), as saved.")
    url_state: str = strawberry.field(
        description="The web page's query string holding the same criteria (`?q=…&f=…`)."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: SavedCohortView) -> SavedCohort:
        query: Any = v.query  # strawberry's JSON scalar is typed as its own class
        return cls(
            id=strawberry.ID(str(v.id)),
            name=v.name,
            query=query,
            url_state=v.url_state,
            created_at=v.created_at,
            updated_at=v.updated_at,
        )


async def saved_cohorts(
    info: Info, first: int | None, after: str | None
) -> relay.Connection[SavedCohort]:
    ctx = info.context
    found = await blocking(ctx.services.cohorts.list, ctx.identity)
    return relay.sliced([SavedCohort.of(c) for c in found], lambda c: str(c.id), first, after)


async def save(info: Info, name: str, query: Any, url_state: str) -> SavedCohort:
    ctx = info.context
    saved = await blocking(ctx.services.cohorts.save, ctx.identity, name, query, url_state)
    return SavedCohort.of(saved)


async def delete(info: Info, id: str) -> bool:
    try:
        cohort_id = uuid.UUID(id)
    except ValueError:
        raise NotFoundError("no saved cohort with that id") from None
    ctx = info.context
    await blocking(ctx.services.cohorts.delete, ctx.identity, cohort_id)
    return True
