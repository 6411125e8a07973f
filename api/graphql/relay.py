"""Relay-style connections: edges with cursors, `pageInfo`, `totalCount` counted only when asked.

Cursors are opaque to clients (base64 of a small JSON value); a cursor that does not decode is a
`BAD_USER_INPUT` error, never a server error.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from catalogue.errors import ErrorDetail, ValidationError

T = TypeVar("T")
DEFAULT_PAGE = 20
MAX_PAGE = 100


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="One item of a connection and the cursor to resume after it.")
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list, Relay style.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds.")
    async def total_count(self) -> int:
        return await self.counter()


def page_size(first: int | None) -> int:
    """`first` checked: 0..MAX_PAGE, DEFAULT_PAGE when not given."""
    if first is None:
        return DEFAULT_PAGE
    if not 0 <= first <= MAX_PAGE:
        raise ValidationError(
            "invalid page size", [ErrorDetail(f"must be between 0 and {MAX_PAGE}", "first")]
        )
    return first


def encode(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str | None, where: str = "after") -> Any:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationError("invalid cursor", [ErrorDetail("not a cursor", where)]) from None


def decode_id(cursor: str | None) -> uuid.UUID | None:
    """A keyset cursor: the id of the last item seen."""
    value = decode(cursor)
    if value is None:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError("invalid cursor", [ErrorDetail("not a cursor", "after")]) from None


def connection(
    nodes: Sequence[T],
    cursors: Sequence[str],
    *,
    has_next: bool,
    has_previous: bool,
    counter: Callable[[], Awaitable[int]],
) -> Connection[T]:
    edges = [Edge(cursor=c, node=n) for n, c in zip(nodes, cursors, strict=True)]
    info = PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )
    return Connection(edges=edges, page_info=info, counter=counter)


def by_id(
    nodes: Sequence[T],
    ids: Sequence[Any],
    *,
    has_next: bool,
    after: Any,
    counter: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """A keyset page ordered by id: each cursor is its node's id."""
    return connection(
        nodes,
        [encode(str(i)) for i in ids],
        has_next=has_next,
        has_previous=after is not None,
        counter=counter,
    )


def sliced(
    items: Sequence[T], key: Callable[[T], str], first: int | None, after: str | None
) -> Connection[T]:
    """A page of a short list the service returns whole (sites, collections), keyed by `key`."""
    size = page_size(first)
    start = 0
    marker = decode(after)
    if marker is not None:
        keys = [key(i) for i in items]
        if marker not in keys:
            raise ValidationError("invalid cursor", [ErrorDetail("not in this list", "after")])
        start = keys.index(marker) + 1
    page = items[start : start + size]
    total = len(items)

    async def counter() -> int:
        return total

    return connection(
        page,
        [encode(key(i)) for i in page],
        has_next=start + size < total,
        has_previous=start > 0,
        counter=counter,
    )
