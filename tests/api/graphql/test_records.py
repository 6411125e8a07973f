"""Records over GraphQL: nested subject → studies → series as the store holds them, connections,
access (records of public collections only for anonymous callers), and a bounded number of
store queries however large the pages (DataLoaders)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from bench.catalogue_generator import Catalogue, GenCollection
from catalogue.settings import Settings
from catalogue.store import Store
from tests.api.graphql.conftest import ADMIN, Ask, as_caller, codes, data

pytestmark = pytest.mark.anyio

NESTED = """query($id: ID!, $n: Int, $m: Int = 20, $after: String) { collection(id: $id) { title
  subjects(first: $n, after: $after) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id sex studies(first: $m) { totalCount edges { node { id year
      series(first: $m) { totalCount edges { node { id modality fieldStrengthT
        coded { field originalValue conceptIri } } } } } } } } } } } }"""


def _largest(catalogue: Catalogue, visibility: str) -> GenCollection:
    colls = [c for _, c in catalogue.collections() if c.visibility == visibility]
    return max(colls, key=lambda c: len(c.subjects))


def _tree(coll: GenCollection) -> dict[str, Any]:
    return {
        str(s.id): {str(st.id): sorted(str(se.id) for se in st.series) for st in s.studies}
        for s in coll.subjects
    }


async def _walk(api: Ask, coll: GenCollection, n: int) -> tuple[dict[str, Any], int]:
    tree: dict[str, Any] = {}
    after, total = None, 0
    while True:
        body = data(await api(NESTED, {"id": str(coll.id), "n": n, "after": after}))
        subjects = body["collection"]["subjects"]
        total = subjects["totalCount"]
        for edge in subjects["edges"]:
            studies = edge["node"]["studies"]
            assert studies["totalCount"] == len(studies["edges"])  # n covers them here
            tree[edge["node"]["id"]] = {
                st["node"]["id"]: sorted(se["node"]["id"] for se in st["node"]["series"]["edges"])
                for st in studies["edges"]
            }
        if not subjects["pageInfo"]["hasNextPage"]:
            return tree, total
        after = subjects["pageInfo"]["endCursor"]


async def test_nested_subjects_studies_series_match_the_store(
    api: Ask, catalogue: Catalogue
) -> None:
    coll = _largest(catalogue, "public")
    tree, total = await _walk(api, coll, n=7)
    assert total == len(coll.subjects)
    assert tree == _tree(coll)


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(store.engine, "before_cursor_execute", count)
    yield seen
    event.remove(store.engine, "before_cursor_execute", count)


async def test_nested_pages_cost_a_fixed_number_of_store_queries(
    catalogue: Catalogue, statements: list[str], node: FastAPI, settings: Settings
) -> None:
    unlimited = settings.model_copy(update={"graphql_max_cost": 10**8})
    admin = as_caller(node, ADMIN, unlimited)
    transport = httpx.ASGITransport(app=admin)
    coll = _largest(catalogue, "aggregate")
    costs = []
    for n in (2, 20, 100):
        statements.clear()
        async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
            response = await http.post(
                "/graphql",
                json={"query": NESTED, "variables": {"id": str(coll.id), "n": n, "m": n}},
            )
        body = data(response.json())
        assert body["collection"]["subjects"]["totalCount"] == len(coll.subjects)
        costs.append(len(statements))
    series_seen = sum(len(st.series) for s in coll.subjects for st in s.studies)
    assert series_seen > 20  # the pages hold many records...
    assert costs[0] == costs[1] == costs[2] <= 16, costs  # ...and cost the same few queries


async def test_anonymous_callers_read_records_of_public_collections_only(
    api: Ask, catalogue: Catalogue
) -> None:
    public = _largest(catalogue, "public")
    counted = _largest(catalogue, "aggregate")
    hidden = _largest(catalogue, "private")
    some = public.subjects[0]
    found = data(await api("query($id: ID!) { subject(id: $id) { id } }", {"id": str(some.id)}))
    assert found["subject"]["id"] == str(some.id)

    body = await api(NESTED, {"id": str(counted.id), "n": 5})
    assert codes(body) == ["FORBIDDEN"]
    assert not (body["data"] or {}).get("collection")  # no record of it leaks
    for coll in (counted, hidden):
        record = coll.subjects[0]
        body = await api("query($id: ID!) { subject(id: $id) { id } }", {"id": str(record.id)})
        assert codes(body) == ["NOT_FOUND"]  # not FORBIDDEN: existence is not revealed
        study = record.studies[0]
        body = await api("query($id: ID!) { study(id: $id) { id } }", {"id": str(study.id)})
        assert codes(body) == ["NOT_FOUND"]
    body = await api("query($id: ID!) { collection(id: $id) { id } }", {"id": str(hidden.id)})
    assert codes(body) == ["NOT_FOUND"]


async def test_records_by_iri_and_their_parents(api: Ask, catalogue: Catalogue) -> None:
    coll = _largest(catalogue, "public")
    subject = coll.subjects[0]
    series = subject.studies[0].series[0]
    iri = f"http://node.test/id/series/{series.id}"
    body = data(
        await api(
            """query($iri: String!) { series(iri: $iri) { id iri
                study { id subject { id collection { id title site { slug } } } } } }""",
            {"iri": iri},
        )
    )
    got = body["series"]
    assert got["iri"] == iri
    assert got["study"]["subject"]["id"] == str(subject.id)
    assert got["study"]["subject"]["collection"]["title"] == coll.title


async def test_bad_keys_are_user_errors(api: Ask) -> None:
    assert codes(await api("{ subject { id } }")) == ["BAD_USER_INPUT"]
    assert codes(await api('{ subject(id: "nope") { id } }')) == ["NOT_FOUND"]
    body = await api("{ sites(first: 1000) { totalCount } }")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["details"][0]["location"] == "first"
    assert codes(await api('{ sites(after: "%%%") { totalCount } }')) == ["BAD_USER_INPUT"]


async def test_sites_and_collections_page_with_stable_cursors(
    api: Ask, catalogue: Catalogue
) -> None:
    seen: list[str] = []
    after = None
    while True:
        body = data(
            await api(
                """query($after: String) { collections(first: 2, after: $after) { totalCount
                   pageInfo { hasNextPage endCursor } edges { node { id visibility } } } }""",
                {"after": after},
            )
        )
        page = body["collections"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    listed = {
        str(c.id) for _, c in catalogue.collections() if c.visibility in {"public", "aggregate"}
    }
    assert set(seen) == listed and len(seen) == len(listed) == page["totalCount"]
    site = data(await api('{ site(slug: "site-01") { slug name collections { totalCount } } }'))
    assert site["site"]["slug"] == "site-01"
