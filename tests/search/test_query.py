"""The query model: clear, located validation errors; limits; no input reaches an engine as
syntax; any JSON either validates or is refused with `ValidationError` (never another error)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue.errors import ValidationError
from catalogue.search import _es_query
from catalogue.search._sqlite_sql import fts_match
from catalogue.search.backend import EVERYTHING, SearchRequest
from catalogue.search.embedded import search_sql
from catalogue.search.fields import tokens
from catalogue.search.query import (
    MAX_DEPTH,
    Position,
    SearchQuery,
    encode_cursor,
    validate_query,
)
from catalogue.search.service import _at
from tests.search.strategies import filters


def refused(data: Any) -> list[tuple[str | None, str]]:
    with pytest.raises(ValidationError) as caught:
        validate_query(data)
    return [(d.location, d.message) for d in caught.value.details]


@pytest.mark.parametrize(
    ("data", "location", "words"),
    [
        (
            {"filter": {"op": "term", "field": "modality", "value": "MR"}},
            "filter.field",
            "inside has_series",
        ),
        (
            {"filter": {"op": "term", "field": "colour", "value": "red"}},
            "filter.field",
            "unknown field",
        ),
        (
            {"filter": {"op": "term", "field": "birth_year", "value": "old"}},
            "filter.value",
            "integer",
        ),
        ({"filter": {"op": "range", "field": "sex", "gte": 1}}, "filter.field", "number or date"),
        ({"filter": {"op": "range", "field": "birth_year"}}, "filter", "at least one"),
        (
            {"filter": {"op": "range", "field": "first_seen", "gte": "last week"}},
            "filter.gte",
            "ISO 8601",
        ),
        (
            {"filter": {"op": "concept", "field": "sex", "iri": "http://x/y"}},
            "filter.field",
            "coded fields",
        ),
        (
            {"filter": {"op": "concept", "field": "diagnosis", "iri": "G35"}},
            "filter.iri",
            "absolute IRI",
        ),
        ({"filter": {"op": "text", "text": "!!! ???"}}, "filter.text", "no words"),
        (
            {
                "kind": "series",
                "filter": {"op": "has_series", "where": {"op": "exists", "field": "year"}},
            },
            "filter.op",
            "not available",
        ),
        (
            {"filter": {"op": "has_series", "where": {"op": "exists", "field": "sex"}}},
            "filter.where.field",
            "subject level",
        ),
        ({"filter": {"op": "bogus"}}, "filter", "does not match"),
        ({"size": 1001}, "size", "less than or equal"),
        ({"sort": [{"field": "modality"}]}, "sort.0.field", "inside has_series"),
        ({"kind": "series", "sort": [{"field": "image_type"}]}, "sort.0.field", "several values"),
        ({"sort": [{"field": "_score"}]}, "sort.0.field", "needs text"),
        (
            {"facets": [{"field": "age_years", "interval": 0.001, "min": 0, "max": 100}]},
            "facets.0.interval",
            "bins",
        ),
        ({"facets": [{"field": "sex"}, {"field": "sex"}]}, "facets.1.field", "once"),
    ],
)
def test_errors_say_where_and_what(data: dict[str, Any], location: str, words: str) -> None:
    details = refused(data)
    assert any(loc == location and words in message for loc, message in details), details


def test_limits() -> None:
    deep: dict[str, Any] = {"op": "exists", "field": "sex"}
    for _ in range(MAX_DEPTH + 1):
        deep = {"op": "not", "filter": deep}
    assert any("deeply" in m for _, m in refused({"filter": deep}))
    wide = {"op": "or", "any": [{"op": "exists", "field": "sex"}] * 64}
    assert any("too many" in m for _, m in refused({"filter": wide}))
    hostile: Any = {}
    for _ in range(5000):  # a document deep enough to break a recursive parser
        hostile = {"op": "not", "filter": hostile}
    assert refused({"filter": hostile})


def test_values_are_coerced_once() -> None:
    q = validate_query({"filter": {"op": "range", "field": "first_seen", "gte": "2024-02-03"}})
    assert q.filter is not None and q.filter.gte == "2024-02-03T00:00:00.000Z"  # type: ignore[union-attr]
    assert validate_query(q) == q


def test_free_text_is_words_only() -> None:
    hostile = '") OR 1=1; -- NEAR(a b) title:* {x} [1 TO 2] \\ ^2 ~ AND NOT'
    assert all(w.isalnum() for w in tokens(hostile))
    assert fts_match(hostile) == " ".join(f'"{w}"' for w in tokens(hostile))
    assert _es_query.match("text", hostile) == {
        "match": {"text": {"query": " ".join(tokens(hostile)), "operator": "and"}}
    }
    assert tokens("Ärger t1_MPRAGE 3.0T") == ["arger", "t1", "mprage", "3", "0t"]


def test_cursors_belong_to_their_query_and_engine() -> None:
    q = validate_query({"size": 5, "sort": [{"field": "birth_year"}]})
    request = SearchRequest(q.kind, None, None, EVERYTHING, tuple(q.sort), 5)
    cursor = encode_cursor(q, Position([1970, "id-1"], 12), "embedded")
    moved, total = _at(request, q.model_copy(update={"cursor": cursor}), "embedded")
    assert (moved.after, moved.count_total, total) == ([1970, "id-1"], False, 12)
    other = validate_query(
        {"size": 5, "sort": [{"field": "birth_year", "order": "desc"}], "cursor": cursor}
    )
    with pytest.raises(ValidationError, match="invalid query"):
        _at(request, other, "embedded")
    with pytest.raises(ValidationError):
        _at(request, q.model_copy(update={"cursor": cursor}), "elasticsearch")
    with pytest.raises(ValidationError):
        _at(request, q.model_copy(update={"cursor": "%%%"}), "embedded")
    forged = encode_cursor(q, Position([{"$gt": 1}, "x"], 1), "embedded")
    with pytest.raises(ValidationError):
        _at(request, q.model_copy(update={"cursor": forged}), "embedded")


KEYS = ["op", "field", "value", "values", "all", "any", "filter", "where", "text", "iri", "gte"]
KEYS += ["lt", "kind", "size", "facets", "sort", "interval", "min", "max"]
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(KEYS),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    data=st.dictionaries(
        st.sampled_from(["kind", "text", "filter", "size", "facets", "sort", "cursor"]),
        _json,
        max_size=4,
    )
)
def test_any_json_is_a_query_or_a_validation_error(data: dict[str, Any]) -> None:
    try:
        q = validate_query(data)
    except ValidationError as exc:
        details = exc.details
    else:
        _compile_both(q)
        return
    assert details, "a refusal says what is wrong"


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["subjects", "studies", "series"]), data=st.data())
def test_valid_filters_compile_for_both_engines(kind: str, data: st.DataObject) -> None:
    q = validate_query({"kind": kind, "filter": data.draw(filters(kind, depth=2))})
    _compile_both(q)


def _compile_both(q: SearchQuery) -> None:
    request = SearchRequest(q.kind, q.text, q.filter, EVERYTHING, tuple(q.effective_sort()), q.size)
    statement, params, _ = search_sql(request)
    assert statement.count("?") == len(params)
    assert _es_query.query(q.kind, q.text, q.filter, EVERYTHING)["bool"] is not None
