"""Search and cohorts over GraphQL: the query model as input types, every hit walked page by page
in the engine's order and equal to the ground truth, facets, and cohort counts suppressed as the
search service suppresses them."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import AnyHttpUrl

from api.app import create_app
from bench.catalogue_generator import DCM, SEQ, Catalogue
from catalogue.access import ANONYMOUS
from catalogue.search.query import validate_query
from catalogue.settings import Settings
from catalogue.store import Store
from ontology import Ontology
from tests.api.graphql.conftest import Ask, asker, codes, data
from tests.search.truth import Truth, ordered_ids, select

pytestmark = pytest.mark.anyio

SEARCH = """query($q: SearchInput!, $first: Int, $after: String) {
  search(query: $q, first: $first, after: $after) {
    totalCount engine pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor kind id node { __typename ... on Subject { id sex } ... on Series { id } } }
    facets { field type buckets { value low high count { value display } }
      missing { value } } } }"""

# subjects with a FLAIR at 3 T and (another) post-contrast T1, or any MS diagnosis
COHORT_FILTER: dict[str, Any] = {
    "or": [
        {
            "and": [
                {
                    "hasSeries": {
                        "and": [
                            {"concept": {"field": "sequence_type", "iri": SEQ + "FLAIR"}},
                            {"range": {"field": "field_strength_t", "gte": 2.9, "lte": 3.1}},
                        ]
                    }
                },
                {
                    "hasSeries": {
                        "and": [
                            {"concept": {"field": "sequence_type", "iri": SEQ + "T1w"}},
                            {"term": {"field": "contrast_agent", "value": True}},
                        ]
                    }
                },
            ]
        },
        {
            "concept": {
                "field": "diagnosis",
                "iri": "http://purl.bioontology.org/ontology/ICD10/G35",
            }
        },
        {"not": {"exists": {"field": "birth_year"}}},
    ]
}
MODEL_FILTER: dict[str, Any] = {
    "op": "or",
    "any": [
        {
            "op": "and",
            "all": [
                {
                    "op": "has_series",
                    "where": {
                        "op": "and",
                        "all": [
                            {"op": "concept", "field": "sequence_type", "iri": SEQ + "FLAIR"},
                            {"op": "range", "field": "field_strength_t", "gte": 2.9, "lte": 3.1},
                        ],
                    },
                },
                {
                    "op": "has_series",
                    "where": {
                        "op": "and",
                        "all": [
                            {"op": "concept", "field": "sequence_type", "iri": SEQ + "T1w"},
                            {"op": "term", "field": "contrast_agent", "value": True},
                        ],
                    },
                },
            ],
        },
        {
            "op": "concept",
            "field": "diagnosis",
            "iri": "http://purl.bioontology.org/ontology/ICD10/G35",
        },
        {"op": "not", "filter": {"op": "exists", "field": "birth_year"}},
    ],
}


def _public(catalogue: Catalogue) -> set[str]:
    return {str(c.id) for _, c in catalogue.collections() if c.visibility == "public"}


async def _walk(api: Ask, query: dict[str, Any], first: int) -> tuple[list[str], int, int]:
    ids: list[str] = []
    after, pages, total = None, 0, -1
    while True:
        body = data(await api(SEARCH, {"q": query, "first": first, "after": after}))
        page = body["search"]
        pages += 1
        total = page["totalCount"]
        ids += [e["id"] for e in page["edges"]]
        assert all(e["node"] is None or e["node"]["id"] == e["id"] for e in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids, total, pages
        after = page["pageInfo"]["endCursor"]


async def test_paging_through_a_search_returns_every_hit_once_in_order(
    api: Ask, catalogue: Catalogue
) -> None:
    query = {"kind": "SUBJECTS", "filter": COHORT_FILTER, "sort": [{"field": "birth_year"}]}
    ids, total, pages = await _walk(api, query, first=3)
    model = validate_query(
        {"kind": "subjects", "filter": MODEL_FILTER, "sort": [{"field": "birth_year"}]}
    )
    expected = ordered_ids(select(Truth.of(catalogue), model, _public(catalogue)), model)
    assert len(expected) >= 8  # several pages
    assert ids == expected
    assert total == len(expected)
    assert pages >= len(expected) // 3


async def test_resuming_after_any_edge_continues_from_it(api: Ask) -> None:
    query = {"kind": "SERIES", "filter": {"term": {"field": "modality", "value": "MR"}}}
    first = data(await api(SEARCH, {"q": query, "first": 10}))["search"]
    edges = first["edges"]
    assert len(edges) == 10
    middle = edges[3]["cursor"]
    rest = data(await api(SEARCH, {"q": query, "first": 5, "after": middle}))["search"]
    assert [e["id"] for e in rest["edges"]] == [e["id"] for e in edges[4:9]]
    assert rest["pageInfo"]["hasPreviousPage"] is True


async def test_facets_and_kinds(api: Ask, catalogue: Catalogue) -> None:
    query = {
        "kind": "SERIES",
        "text": "brain",
        "facets": [
            {"terms": {"field": "modality", "size": 3}},
            {"histogram": {"field": "field_strength_t", "interval": 1.5, "min": 0, "max": 4.5}},
        ],
    }
    body = data(await api(SEARCH, {"q": query, "first": 3}))["search"]
    modality, strength = body["facets"]
    assert modality["field"] == "modality" and modality["type"] == "terms"
    assert 1 <= len(modality["buckets"]) <= 3
    assert [b["low"] for b in strength["buckets"]] == [0.0, 1.5, 3.0]
    shown = sum(b["count"]["value"] for b in modality["buckets"])
    assert shown <= body["totalCount"]
    assert all(e["kind"] == "SERIES" and e["node"]["__typename"] == "Series" for e in body["edges"])
    colls = data(await api(SEARCH, {"q": {"kind": "COLLECTIONS"}, "first": 50}))["search"]
    listed = {
        str(c.id) for _, c in catalogue.collections() if c.visibility in {"public", "aggregate"}
    }
    assert {e["id"] for e in colls["edges"]} == listed


COHORT = """query($q: CohortInput!) { cohort(query: $q) { threshold engine
  subjects { value suppressed display atLeast } studies { value } series { value }
  sites { slug subjects { value suppressed display } collections { id title
    subjects { value suppressed display } } }
  facets { field buckets { value count { value suppressed display } } } } }"""


async def test_cohort_counts_match_the_search_service_and_show_suppression(
    api: Ask, node: FastAPI, catalogue: Catalogue
) -> None:
    query = {
        "filter": {"hasSeries": {"term": {"field": "modality", "value": "MR"}}},
        "facets": [{"terms": {"field": "sex"}}],
    }
    body = data(await api(COHORT, {"q": query}))["cohort"]
    direct = node.state.search.cohort(
        ANONYMOUS,
        {
            "kind": "subjects",
            "filter": {
                "op": "has_series",
                "where": {"op": "term", "field": "modality", "value": "MR"},
            },
            "facets": [{"type": "terms", "field": "sex"}],
        },
    )
    assert body["subjects"]["value"] == direct.subjects.value
    assert body["threshold"] == 5
    cells = [c["subjects"] for s in body["sites"] for c in s["collections"]]
    cells += [b["count"] for f in body["facets"] for b in f["buckets"]]
    suppressed = [c for c in cells if c["suppressed"]]
    assert suppressed, "the generated catalogue has small aggregate-only collections"
    assert all(c["value"] is None and c["display"] == "fewer than 5" for c in suppressed)
    private = {
        str(c.id) for _, c in catalogue.collections() if c.visibility in {"private", "registered"}
    }
    shown = {c["id"] for s in body["sites"] for c in s["collections"]}
    assert not shown & private


async def test_bad_queries_are_user_errors_with_locations(api: Ask) -> None:
    unknown = {"filter": {"term": {"field": "nope", "value": 1}}}
    body = await api(SEARCH, {"q": unknown})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["details"][0]["location"] == "filter.field"
    two = {"filter": {"term": {"field": "sex", "value": "female"}, "exists": {"field": "sex"}}}
    assert codes(await api(SEARCH, {"q": two})) == ["BAD_USER_INPUT"]
    wrong_level = {"kind": "SUBJECTS", "filter": {"term": {"field": "modality", "value": "MR"}}}
    body = await api(SEARCH, {"q": wrong_level})
    assert "has_series" in body["errors"][0]["extensions"]["details"][0]["message"]
    assert codes(await api(SEARCH, {"q": {}, "after": "bm9wZQ"})) == ["BAD_USER_INPUT"]
    assert codes(await api(SEARCH, {"q": {"text": "x" * 5000}})) == ["BAD_USER_INPUT"]
    deep: dict[str, Any] = {"exists": {"field": "sex"}}
    for _ in range(30):
        deep = {"not": deep}
    assert codes(await api(SEARCH, {"q": {"filter": deep}})) == ["BAD_USER_INPUT"]
    assert codes(await api(SEARCH, {"q": {"kind": "SUBJECTS", "text": 3}})) == ["BAD_USER_INPUT"]


async def test_concept_filters_expand_to_descendants_unless_asked_not_to(api: Ask) -> None:
    def q(descendants: bool) -> dict[str, Any]:
        concept = {"field": "modality", "iri": DCM + "MR", "includeDescendants": descendants}
        return {"kind": "SERIES", "filter": {"concept": concept}}

    with_ = data(await api(SEARCH, {"q": q(True), "first": 1}))["search"]["totalCount"]
    without = data(await api(SEARCH, {"q": q(False), "first": 1}))["search"]["totalCount"]
    assert with_ == without > 0  # MR has no descendants in the generator's ontology
    parent = {"field": "modality", "iri": "https://w3id.org/imaging-catalogue/modality/acquired"}
    acquired = await api(SEARCH, {"q": {"kind": "SERIES", "filter": {"concept": parent}}})
    assert data(acquired)["search"]["totalCount"] > with_


async def test_a_search_engine_outage_is_search_unavailable(
    settings: Settings, store: Store, ontology: Ontology
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    down = settings.model_copy(
        update={
            "search_backend": "elasticsearch",
            "elasticsearch_url": AnyHttpUrl(f"http://127.0.0.1:{closed}"),
        }
    )
    app = create_app(down, store, index_in_background=False, ontology=ontology)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        body = await asker(http)(SEARCH, {"q": {"text": "brain"}})
    assert codes(body) == ["SEARCH_UNAVAILABLE"]
    assert "Traceback" not in str(body)
