"""The published schema: `api/graphql/schema.graphql` is the schema the node serves.

After a deliberate change, regenerate it with `python -m api.graphql.sdl` and record breaking
changes in `docs/graphql-changelog.md`.
"""

from __future__ import annotations

from pathlib import Path

from api.errors import GRAPHQL_CODES, graphql_code_of
from api.graphql.schema import Limits, build_schema, schema
from api.graphql.sdl import SDL, sdl
from catalogue import errors

ROOT = Path(__file__).resolve().parents[3]


def test_the_published_sdl_is_the_served_schema() -> None:
    assert SDL.read_text(encoding="utf-8") == sdl(), (
        "the GraphQL schema changed: run `python -m api.graphql.sdl` and note breaking changes "
        "in docs/graphql-changelog.md"
    )


def test_limits_do_not_change_the_schema() -> None:
    strict = build_schema(Limits(max_depth=3, max_cost=10, introspection=False))
    assert strict.as_str() == schema.as_str()


def test_the_changelog_names_the_current_schema() -> None:
    changelog = (ROOT / "docs" / "graphql-changelog.md").read_text(encoding="utf-8")
    assert "## " in changelog and "schema.graphql" in changelog


def test_every_error_class_has_a_graphql_code() -> None:
    public = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type)
        and issubclass(cls, errors.CatalogueError)
        and cls is not errors.CatalogueError
    ]
    assert [c.__name__ for c in public if graphql_code_of(c("x")) == "INTERNAL_SERVER_ERROR"] == []
    assert GRAPHQL_CODES[errors.SearchUnavailableError] == "SEARCH_UNAVAILABLE"
