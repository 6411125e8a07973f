"""The change feed over GraphQL: what a hub's `peer` harvester reads (`harvesters/peer.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from catalogue.services.changes import MAX_PAGE, ChangeFeed, ChangePage


@strawberry.type(description="One create, update or delete of a published record.")
class Change:
    cursor: str = strawberry.field(description="Pass as `after` to resume after this change.")
    op: str = strawberry.field(description="`upsert` or `delete`.")
    kind: str = strawberry.field(description="`collection`, `subject`, `study` or `series`.")
    iri: str
    changed_at: datetime
    parents: JSON = strawberry.field(description="IRIs of the collection, subject and study.")
    record: JSON | None = strawberry.field(description="The record's fields (upserts only).")
    coded: JSON = strawberry.field(description="Coded fields as the site wrote them.")
    provenance: JSON | None = strawberry.field(
        description="Site, source, native id, first and last seen, content hash, harvest run."
    )


@strawberry.type(description="A page of the change feed, in commit order.")
class ChangeFeedPage:
    changes: list[Change]
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page (cursors survive restarts)."
    )
    has_next_page: bool


After = Annotated[
    str | None, strawberry.argument(description="Changes after this cursor; none: from the start.")
]
First = Annotated[int, strawberry.argument(description=f"Page size, at most {MAX_PAGE}.")]


def convert(page: ChangePage) -> ChangeFeedPage:
    def one(c: Any) -> Change:
        provenance = c.provenance.model_dump(mode="json") if c.provenance else None
        return Change(
            cursor=c.cursor,
            op=c.op,
            kind=c.kind,
            iri=c.iri,
            changed_at=c.changed_at,
            parents=c.parents,
            record=c.record,
            coded=c.coded,
            provenance=provenance,
        )

    return ChangeFeedPage(
        changes=[one(c) for c in page.changes],
        end_cursor=page.end_cursor,
        has_next_page=page.has_next_page,
    )


__all__ = ["After", "ChangeFeed", "ChangeFeedPage", "First", "convert"]
