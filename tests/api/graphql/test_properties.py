"""Property-based runs against the GraphQL endpoint over HTTP: documents generated from the
schema itself (random fields, arguments of random types, random depth) and search inputs
generated from the query model (known and unknown fields, values of every type, nested boolean
clauses, facets, sorts, cursors). None may produce a server error: every answer is HTTP 200 with
data or coded errors, never `INTERNAL_SERVER_ERROR` and never a stack trace."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from graphql import (
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from api.graphql.schema import schema
from bench.catalogue_generator import SEQ, generate, load
from catalogue.search.fields import FIELDS
from catalogue.settings import Settings
from catalogue.store import Store

GRAPHQL = schema._schema
RUNS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


class Http:
    """Posts to the app in-process over httpx's ASGI transport, one event loop per call."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as c:
                return await c.post(path, **kwargs)

        return asyncio.run(send())


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Http]:
    data_dir = tmp_path_factory.mktemp("props") / "var"
    unlimited = {"rate_limit_per_minute": 0}  # the run sends far more than any person would
    node = Settings(
        data_dir=data_dir,
        base_url="http://node.test",  # type: ignore[arg-type]
        **{k: v for k, v in unlimited.items() if k in Settings.model_fields},
    )
    store = Store(node.store_url, node.base_iri)
    store.upgrade()
    load(store, generate(subjects=40, sites=2, collections_per_site=3, seed=3))
    app = create_app(node, store, index_in_background=False)
    app.state.indexer.rebuild()
    yield Http(app)
    store.dispose()


def _check(http: Http, body: dict[str, Any]) -> None:
    response = http.post("/graphql", json=body)
    assert response.status_code in {200, 400}, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code == 200:
        answer = response.json()
        assert set(answer) <= {"data", "errors", "extensions"}
        for error in answer.get("errors", []):
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", (body, error)


# -- documents generated from the schema ------------------------------------------------------
scalars = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text(max_size=12).map(json.dumps),
    st.sampled_from(["true", "false", "null", "SUBJECTS", "ASC", "[]", "{}", '[1, "a"]']),
)


@st.composite
def selection(draw: st.DrawFn, type_: Any, depth: int) -> str:
    named = get_named_type(type_)
    if isinstance(named, GraphQLUnionType):
        parts = [
            f"... on {member.name} {{ {draw(selection(member, depth + 1))} }}"
            for member in draw(st.lists(st.sampled_from(named.types), min_size=1, max_size=2))
        ]
        return "__typename " + " ".join(parts)
    if not isinstance(named, GraphQLObjectType):
        return ""
    names = sorted(named.fields)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    out = []
    for name in chosen:
        field = named.fields[name]
        args = []
        for arg_name in field.args:
            if draw(st.booleans()):
                args.append(f"{arg_name}: {draw(scalars)}")
        head = f"{name}({', '.join(args)})" if args else name
        inner_type = get_named_type(field.type)
        if isinstance(inner_type, GraphQLObjectType | GraphQLUnionType):
            if depth >= 5:
                continue
            out.append(f"{head} {{ {draw(selection(field.type, depth + 1))} }}")
        else:
            out.append(head)
    return " ".join(out) or "__typename"


@given(document=selection(GRAPHQL.query_type, 0))
@RUNS
def test_generated_documents_never_fail_the_server(http: Http, document: str) -> None:
    _check(http, {"query": "{ " + document + " }"})


# -- search inputs from the query model ---------------------------------------------------------
field_names = st.one_of(st.sampled_from(sorted(FIELDS)), st.text(min_size=0, max_size=8))
values = st.one_of(
    st.text(max_size=10),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.sampled_from(["MR", "female", "2020-01-01", "2020", SEQ + "FLAIR", "not a date"]),
)
leaves = st.one_of(
    st.builds(lambda f, v: {"term": {"field": f, "value": v}}, field_names, values),
    st.builds(
        lambda f, v: {"terms": {"field": f, "values": v}}, field_names, st.lists(values, max_size=4)
    ),
    st.builds(
        lambda f, lo, hi: {"range": {"field": f, "gte": lo, "lt": hi}}, field_names, values, values
    ),
    st.builds(lambda f: {"exists": {"field": f}}, field_names),
    st.builds(
        lambda f, iri, d: {"concept": {"field": f, "iri": iri, "includeDescendants": d}},
        field_names,
        st.one_of(st.just(SEQ + "T2w"), st.text(max_size=20)),
        st.booleans(),
    ),
    st.builds(lambda t: {"text": t}, st.text(max_size=30)),
)
filters = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(lambda xs: {"and": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda xs: {"or": xs}, st.lists(inner, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
        st.builds(lambda x: {"hasSeries": x}, inner),
        st.builds(lambda x: {"hasStudy": x}, inner),
        st.builds(lambda a, b: a | b, inner, inner),  # two clauses in one: refused
    ),
    max_leaves=12,
)
facets = st.one_of(
    st.builds(lambda f, n: {"terms": {"field": f, "size": n}}, field_names, st.integers(-5, 500)),
    st.builds(
        lambda f, i, lo, hi: {"histogram": {"field": f, "interval": i, "min": lo, "max": hi}},
        field_names,
        st.floats(-10, 1e6, allow_nan=False),
        st.floats(-1e6, 1e6, allow_nan=False),
        st.floats(-1e6, 1e6, allow_nan=False),
    ),
)
search_inputs = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["SUBJECTS", "STUDIES", "SERIES", "COLLECTIONS", "DATASETS", "X"]),
        "text": st.text(max_size=40),
        "filter": filters,
        "facets": st.lists(facets, max_size=3),
        "sort": st.lists(
            st.fixed_dictionaries(
                {"field": st.one_of(field_names, st.just("_score"))},
                optional={"order": st.sampled_from(["ASC", "DESC"])},
            ),
            max_size=3,
        ),
    },
)
SEARCH = """query($q: SearchInput!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) { totalCount engine
    pageInfo { hasNextPage endCursor } edges { cursor kind node { __typename } }
    facets { field buckets { value count { value display } } } } }"""
COHORT = """query($q: CohortInput!) { cohort(query: $q) { subjects { value display }
  sites { slug collections { subjects { value } } } facets { field } } }"""


@given(
    query=search_inputs,
    first=st.one_of(st.none(), st.integers(-3, 150)),
    after=st.one_of(st.none(), st.text(max_size=20), st.just("WyJ4IiwgMV0")),
)
@RUNS
def test_generated_searches_never_fail_the_server(
    http: Http, query: dict[str, Any], first: int | None, after: str | None
) -> None:
    _check(http, {"query": SEARCH, "variables": {"q": query, "first": first, "after": after}})
    cohort = {k: v for k, v in query.items() if k in {"text", "filter", "facets"}}
    _check(http, {"query": COHORT, "variables": {"q": cohort}})


def test_broken_requests_get_clear_answers(http: Http, tmp_path: Path) -> None:
    for raw in ["{", "[]", '{"query": 3}', '{"query": "{ node { name }", "variables": 7}']:
        response = http.post("/graphql", content=raw, headers={"content-type": "application/json"})
        assert response.status_code in {200, 400}, raw
        assert "Traceback" not in response.text
    deep = "[" * 50_000 + "]" * 50_000
    response = http.post(
        "/graphql", content=f'{{"query": "{{ node {{ name }} }}", "variables": {{"v": {deep}}}}}'
    )
    assert response.status_code in {200, 400, 413, 422}
