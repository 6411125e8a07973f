"""Saved cohorts over GraphQL: a person's own list, saved and deleted by them only; another
person's cohorts are neither listed nor deletable, and anonymous callers are asked to sign in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from catalogue.access import ANONYMOUS, Identity
from catalogue.settings import Settings
from catalogue.store import Store
from ontology import Ontology
from tests.api.graphql.conftest import Ask, as_caller, asker, codes, data

pytestmark = pytest.mark.anyio
ANN = Identity(subject="ann", roles=frozenset({"researcher"}))
BOB = Identity(subject="bob", roles=frozenset({"researcher"}))
SAVE = """mutation($name: String!, $query: JSON!, $url: String!) {
  saveCohort(name: $name, query: $query, urlState: $url) { id name query urlState } }"""
LIST = "{ savedCohorts { totalCount edges { node { id name query urlState } } } }"
DELETE = "mutation($id: ID!) { deleteSavedCohort(id: $id) }"
QUERY = {"filter": {"hasSeries": {"term": {"field": "modality", "values": ["MR"]}}}}

Caller = Callable[[Identity], AbstractAsyncContextManager[Ask]]


@pytest.fixture
def caller(settings: Settings, store: Store, ontology: Ontology) -> Caller:
    node = create_app(settings, store, index_in_background=False, ontology=ontology)

    @asynccontextmanager
    async def ask_as(identity: Identity) -> AsyncIterator[Ask]:
        app: FastAPI = as_caller(node, identity)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
            yield asker(http)

    return ask_as


def names(listed: dict[str, Any]) -> list[str]:
    return [e["node"]["name"] for e in listed["savedCohorts"]["edges"]]


async def test_a_person_never_sees_or_deletes_anothers_cohorts(caller: Caller) -> None:
    async with caller(ANN) as ann, caller(BOB) as bob:
        saved = data(await ann(SAVE, {"name": "MR", "query": QUERY, "url": "?f=modality%3AMR"}))
        cohort = saved["saveCohort"]
        assert (cohort["query"], cohort["urlState"]) == (QUERY, "?f=modality%3AMR")
        data(await bob(SAVE, {"name": "Bob's", "query": {}, "url": ""}))

        assert names(data(await ann(LIST))) == ["MR"]
        assert names(data(await bob(LIST))) == ["Bob's"]
        assert codes(await bob(DELETE, {"id": cohort["id"]})) == ["NOT_FOUND"]
        assert codes(await bob(DELETE, {"id": "not-an-id"})) == ["NOT_FOUND"]
        assert data(await ann(LIST))["savedCohorts"]["totalCount"] == 1

        assert data(await ann(DELETE, {"id": cohort["id"]})) == {"deleteSavedCohort": True}
        assert names(data(await ann(LIST))) == []


async def test_anonymous_callers_are_asked_to_sign_in(caller: Caller) -> None:
    async with caller(ANONYMOUS) as anonymous:
        assert codes(await anonymous(LIST)) == ["UNAUTHENTICATED"]
        refused = await anonymous(SAVE, {"name": "x", "query": QUERY, "url": ""})
        assert codes(refused) == ["UNAUTHENTICATED"]


async def test_a_query_that_is_no_object_is_refused(caller: Caller) -> None:
    async with caller(ANN) as ann:
        refused = await ann(SAVE, {"name": "x", "query": ["not", "an", "object"], "url": ""})
        assert codes(refused) == ["BAD_USER_INPUT"]
        assert names(data(await ann(LIST))) == []
