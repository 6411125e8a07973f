"""Limits on what one GraphQL document may ask: depth, cost, and (optionally) an allow-list.

Cost estimates how many values an answer may hold before running it: every field costs 1 for
each time it can appear, and a field taking `first` (a connection, a search) multiplies what is
below it by its page size (the default when not given, the maximum when it is a variable).
Introspection fields (`__schema`, `__type`, ...) are not counted.

The allow-list (persisted queries): when configured, only documents listed in a directory of
`*.graphql` files run. A client sends either the document's text, or only its id, the SHA-256 of
the file's text, as `extensions.persistedQuery.sha256Hash` (as Apollo clients do).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    parse,
    print_ast,
)
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as create_alias_validator

from api.graphql import relay
from api.graphql.errors import limit_error
from catalogue.errors import ConfigurationError

MAX_TOKENS = 5000
MAX_ALIASES = 50


@dataclass(frozen=True)
class Measure:
    depth: int
    cost: int


def measure(document: DocumentNode, variables: Mapping[str, Any] | None = None) -> Measure:
    """Deepest field nesting and cost of the document's operations (the worst one counts)."""
    pages = _Pages(variables or {})
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    depth = cost = 0
    for op in document.definitions:
        if isinstance(op, OperationDefinitionNode):
            d, c = _walk(op.selection_set, fragments, pages, 1, frozenset())
            depth, cost = max(depth, d), max(cost, c)
    return Measure(depth, cost)


def _walk(
    selections: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    pages: _Pages,
    multiplier: int,
    seen: frozenset[str],
) -> tuple[int, int]:
    """(depth, cost) of a selection set repeated `multiplier` times."""
    if selections is None:
        return 0, 0
    depth = cost = 0
    for node in selections.selections:
        if isinstance(node, FieldNode):
            if node.name.value.startswith("__"):
                continue
            d, c = _walk(node.selection_set, fragments, pages, multiplier * pages(node), seen)
            depth, cost = max(depth, d + 1), cost + multiplier + c
        elif isinstance(node, InlineFragmentNode):
            d, c = _walk(node.selection_set, fragments, pages, multiplier, seen)
            depth, cost = max(depth, d), cost + c
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:  # other rules report these
                continue
            d, c = _walk(fragment.selection_set, fragments, pages, multiplier, seen | {name})
            depth, cost = max(depth, d), cost + c
    return depth, cost


class _Pages:
    """The page size a field asks for: its `first` (literal or variable), else the default."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self.variables = variables

    def __call__(self, field: FieldNode) -> int:
        for arg in field.arguments or ():
            if arg.name.value != "first":
                continue
            value: Any = relay.MAX_PAGE
            if isinstance(arg.value, IntValueNode):
                value = int(arg.value.value)
            elif isinstance(arg.value, VariableNode):
                value = self.variables.get(arg.value.name.value, relay.DEFAULT_PAGE)
            if value is None:
                value = relay.DEFAULT_PAGE
            if not isinstance(value, int):
                return relay.MAX_PAGE  # rejected later as a type error
            return max(1, min(value, relay.MAX_PAGE))
        return relay.DEFAULT_PAGE if field.name.value in _CONNECTIONS else 1


# Fields that return pages; without `first` they return the default page size.
_CONNECTIONS = frozenset(
    {
        "search",
        "sites",
        "collections",
        "subjects",
        "studies",
        "series",
        "sources",
        "harvestRuns",
        "datasets",
    }
)


def depth_and_cost(max_depth: int, max_cost: int) -> list[Callable[[], SchemaExtension]]:
    """Depth is checked with the other validation rules; cost before them, as it depends on the
    variables (page sizes), which validation rules do not see."""

    class Depth(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            depth = measure(context.document).depth
            if depth > max_depth:
                context.report_error(
                    limit_error(
                        f"the query is nested {depth} levels deep; at most {max_depth} are allowed",
                        "QUERY_TOO_DEEP",
                    )
                )

    class Cost(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            if context.graphql_document is not None:
                cost = measure(context.graphql_document, context.variables).cost
                if cost > max_cost:
                    # set before validation runs: it then reports this alone
                    context.pre_execution_errors = [
                        limit_error(
                            f"the query could return about {cost} values; at most {max_cost} "
                            "are allowed: ask for smaller pages (`first`) or fewer fields",
                            "QUERY_TOO_COSTLY",
                        )
                    ]
            yield

    return [lambda: AddValidationRules([Depth]), Cost]


def aliases(max_aliases: int) -> Callable[[], SchemaExtension]:
    """The alias limit, its rule class made once: validation results are cached per document
    and set of rule classes, and a class made per request would never hit the cache."""
    rule = create_alias_validator(max_aliases)
    return lambda: AddValidationRules([rule])


# -- allow-list ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AllowList:
    by_hash: dict[str, str]  # SHA-256 of the file's text -> text
    documents: frozenset[str]  # normalised (printed) documents

    @classmethod
    def load(cls, directory: Path) -> AllowList:
        if not directory.is_dir():
            raise ConfigurationError(f"persisted queries: {directory} is not a directory")
        by_hash: dict[str, str] = {}
        documents: set[str] = set()
        for path in sorted(directory.glob("*.graphql")):
            text = path.read_text(encoding="utf-8")
            try:
                documents.add(print_ast(parse(text)))
            except GraphQLSyntaxError as exc:
                raise ConfigurationError(f"persisted queries: {path}: {exc.message}") from None
            by_hash[hashlib.sha256(text.encode()).hexdigest()] = text
        return cls(by_hash, frozenset(documents))


def allow_list(allowed: AllowList) -> list[Callable[[], SchemaExtension]]:
    class PersistedQuery(SchemaExtension):
        """Fills in the text of a query sent by id."""

        def on_operation(self) -> Iterator[None]:
            context = self.execution_context
            if not context.query:
                digest = _hash_of(context.operation_extensions)
                if digest is not None and digest in allowed.by_hash:
                    context.query = allowed.by_hash[digest]
            yield

    class Listed(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            if print_ast(context.document) not in allowed.documents:
                context.report_error(
                    limit_error(
                        "this node runs only persisted queries, and this is not one of them",
                        "PERSISTED_QUERY_NOT_ALLOWED",
                    )
                )

    return [PersistedQuery, lambda: AddValidationRules([Listed])]


def _hash_of(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
        return str(persisted["sha256Hash"])
    return None
