"""Where GraphQL errors get their `extensions.code`, and where stack traces stop.

Every `CatalogueError` maps to a code through `api.errors.GRAPHQL_CODES`, beside the HTTP
statuses; errors the GraphQL layer raises itself (parse, validation, depth and cost limits) carry
their own code; any other exception becomes `INTERNAL_SERVER_ERROR` with a fixed message, logged
by frames and type only (an exception message could echo a header value).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from api.errors import graphql_code_of
from catalogue import errors

log = logging.getLogger(__name__)

INTERNAL = "INTERNAL_SERVER_ERROR"
INVALID = "GRAPHQL_VALIDATION_FAILED"


def limit_error(message: str, code: str) -> GraphQLError:
    """An error a GraphQL limit raises while validating a document."""
    return GraphQLError(message, extensions={"code": code})


def convert(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None:
        given: dict[str, object] = dict(error.extensions or {})
        given.setdefault("code", "BAD_USER_INPUT" if _about_input(error) else INVALID)
        return _with(error, error.message, given)
    if isinstance(original, errors.CatalogueError):
        extensions: dict[str, object] = {"code": graphql_code_of(original)}
        if original.details:
            extensions["details"] = [
                {"location": d.location, "message": d.message} for d in original.details
            ]
        return _with(error, original.message, extensions)
    if isinstance(original, GraphQLError | ValueError | TypeError) and error.path is None:
        # variable and argument coercion: the caller's input does not fit the schema
        return _with(error, error.message, {"code": "BAD_USER_INPUT"})
    frames = "".join(traceback.format_tb(original.__traceback__))
    log.error("unexpected %s in GraphQL at %s\n%s", type(original).__name__, error.path, frames)
    return _with(error, "an unexpected error occurred", {"code": INTERNAL})


def _about_input(error: GraphQLError) -> bool:
    """Values of variables that do not fit their types are the caller's input, not the query."""
    return error.message.startswith(("Variable ", "OneOf Input Object"))


def _with(error: GraphQLError, message: str, extensions: dict[str, object]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class ErrorCodes(SchemaExtension):
    """Rewrites every error of a result into the form above."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        found = getattr(result, "errors", None)
        if result is not None and found:
            result.errors = [convert(e) for e in found]
        # errors raised before execution (parse, validation) are on the context
        early = self.execution_context.pre_execution_errors
        if early:
            self.execution_context.pre_execution_errors = [convert(e) for e in early]
