"""Datasets over GraphQL: administrators create one from a cohort query and reserve its DOIs;
a reserved dataset is not shown to anyone else, and nobody else may take those steps."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.api.graphql.conftest import ADMIN, Ask, as_caller, asker, codes, data

pytestmark = pytest.mark.anyio

CREATE = """mutation { createDataset(input: {slug: "mr-cohort", title: "MR cohort",
  description: "Subjects with an MR series",
  query: {filter: {hasSeries: {term: {field: "modality", value: "MR"}}}}}) {
    id slug state versions { version state members } } }"""
FIELDS = "id slug title state conceptDoi provider versions { version doi state publishedAt }"


async def test_dataset_steps_for_administrators(api: Ask, node: FastAPI) -> None:
    assert codes(await api(CREATE)) == ["UNAUTHENTICATED"]  # anonymous: sign in first
    transport = httpx.ASGITransport(app=as_caller(node, ADMIN))
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        admin = asker(http)
        made = data(await admin(CREATE))["createDataset"]
        assert made["state"] == "DRAFT" and made["versions"][0]["members"] > 0
        ident = made["id"]
        assert codes(await api(f'{{ dataset(key: "mr-cohort") {{ {FIELDS} }} }}')) == ["NOT_FOUND"]
        reserved = data(
            await admin(f'mutation {{ reserveDatasetDoi(id: "{ident}") {{ {FIELDS} }} }}')
        )
        assert reserved["reserveDatasetDoi"]["conceptDoi"]
        hide = f'mutation {{ hideDataset(id: "{ident}") {{ id }} }}'
        assert codes(await api(hide)) == ["UNAUTHENTICATED"]
        seen = data(await admin(f'{{ dataset(key: "mr-cohort") {{ {FIELDS} }} }}'))["dataset"]
        assert (
            seen["id"] == ident
            and seen["conceptDoi"] == reserved["reserveDatasetDoi"]["conceptDoi"]
        )
    assert codes(await api(f'{{ dataset(key: "{ident}") {{ id }} }}')) == ["NOT_FOUND"]  # reserved
    assert codes(await api('{ dataset(key: "nope") { id } }')) == ["NOT_FOUND"]
