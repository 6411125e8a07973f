"""Terms and curation over GraphQL: look-up, autocomplete, descendants with access-aware counts;
the curation queue and decisions for curators only."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from catalogue.access import Identity
from tests.api.graphql.conftest import Ask, as_caller, asker, codes, data

pytestmark = pytest.mark.anyio
CURATOR = Identity(subject="curator@site", roles=frozenset({"curator"}))


async def test_terms(api: Ask) -> None:
    brain = data(
        await api('{ term(id: "SCT:12738006", counts: true) { iri label count { records } } }')
    )
    assert brain["term"]["iri"] == "http://snomed.info/id/12738006"
    found = data(await api('{ terms(prefix: "brai", field: "body_part", first: 5) { iri label } }'))
    assert "http://snomed.info/id/12738006" in [t["iri"] for t in found["terms"]]
    below = data(await api('{ terms(below: "SCT:69536005", first: 100) { iri } }'))["terms"]
    assert "http://snomed.info/id/12738006" in [t["iri"] for t in below]
    assert codes(await api('{ term(id: "SCT:0") { iri } }')) == ["NOT_FOUND"]


async def test_curation_is_for_curators(api: Ask, node: FastAPI) -> None:
    queue = '{ curationQueue(field: "body_part") { field value records method concept { iri } } }'
    assert codes(await api(queue)) == ["FORBIDDEN"]
    override = """mutation { overrideMapping(field: "body_part", value: "HEADNECK",
        concept: "SCT:69536005", note: "head and neck") {
          records values concept { iri label } } }"""
    assert codes(await api(override)) == ["FORBIDDEN"]

    transport = httpx.ASGITransport(app=as_caller(node, CURATOR))
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        curator = asker(http)
        waiting = data(await curator(queue))["curationQueue"]
        assert any(e["value"] == "HEADNECK" for e in waiting)
        done = data(await curator(override))["overrideMapping"]
        assert done["records"] > 0 and done["concept"]["iri"] == "http://snomed.info/id/69536005"
        after = data(await curator(queue))["curationQueue"]
        assert not any(e["value"] == "HEADNECK" for e in after)
