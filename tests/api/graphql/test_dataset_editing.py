"""What the publishing pages need of the API: the dataset list (drafts for administrators only),
metadata edits with located errors, the editable metadata read back, the datasheet, the licence
list, and the manifest over REST."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from fastapi import FastAPI

from tests.api.graphql.conftest import ADMIN, Ask, as_caller, asker, codes, data

pytestmark = pytest.mark.anyio

CREATE = """mutation { createDataset(input: {slug: "edited", title: "MR cohort",
  query: {filter: {hasSeries: {term: {field: "modality", value: "MR"}}}}}) { id } }"""
EDIT = """mutation($id: ID!, $metadata: JSON!) { updateDatasetMetadata(id: $id, metadata: $metadata)
  { title metadata } }"""
LIST = "{ datasets(first: 10) { totalCount edges { node { slug state updatedAt } } } }"
SHEET = """query($key: String!) { dataset(key: $key) { datasheet {
  subjects { value display } dimensions { name unit buckets { value count { display } } } } } }"""
GOOD = {
    "titles": ["Brain MR"],
    "descriptions": ["T1w and FLAIR"],
    "creators": [{"name": "Fenner, Martin", "orcid": "0000-0003-1419-2405"}],
    "license": "CC-BY-4.0",
    "keywords": ["neuroimaging"],
    "subjects": [{"label": "Brain", "iri": "http://snomed.info/id/12738006", "scheme": "SCT"}],
}


async def test_an_edit_is_checked_located_and_read_back(node: FastAPI, api: Ask) -> None:
    transport = httpx.ASGITransport(app=as_caller(node, ADMIN))
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        admin = asker(http)
        ident = data(await admin(CREATE))["createDataset"]["id"]
        bad = {**GOOD, "creators": [{"name": "Fenner, Martin", "orcid": "0000-0003-1419-2404"}]}
        refused = await admin(EDIT, {"id": ident, "metadata": bad})
        assert codes(refused) == ["BAD_USER_INPUT"]
        assert codes(await admin(EDIT, {"id": ident, "metadata": [1]})) == ["BAD_USER_INPUT"]
        details = refused["errors"][0]["extensions"]["details"]
        assert [d["location"] for d in details] == ["creators[0].orcid"]
        edited = data(await admin(EDIT, {"id": ident, "metadata": GOOD}))["updateDatasetMetadata"]
        assert edited["title"] == "Brain MR"
        shown = edited["metadata"]
        assert shown["creators"][0]["orcid"] == "0000-0003-1419-2405"
        assert (shown["license"], shown["keywords"]) == ("CC-BY-4.0", ["neuroimaging"])
        assert shown["subjects"][0]["iri"] == "http://snomed.info/id/12738006"

        listed = data(await admin(LIST))["datasets"]
        assert [e["node"]["slug"] for e in listed["edges"]] == ["edited"]
        sheet = data(await admin(SHEET, {"key": "edited"}))["dataset"]["datasheet"]
        assert int(sheet["subjects"]["value"]) > 0
        assert {d["name"] for d in sheet["dimensions"]} >= {"site", "sex", "modality"}
        licences = data(await admin("{ datasetLicences { id name } }"))["datasetLicences"]
        assert {"id": "CC-BY-4.0", "name": "Creative Commons Attribution 4.0 International"} in (
            licences
        )
    # a draft: not listed, no manifest for anyone else
    assert data(await api(LIST))["datasets"]["totalCount"] == 0
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=node), base_url="http://node.test"
    ) as http:
        assert (await http.get("/datasets/edited/manifest.csv")).status_code == 404


async def test_a_published_manifest_is_downloadable(node: FastAPI) -> None:
    transport = httpx.ASGITransport(app=as_caller(node, ADMIN))
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        admin = asker(http)
        ident = data(await admin(CREATE))["createDataset"]["id"]
        data(await admin(EDIT, {"id": ident, "metadata": GOOD}))
        published = data(
            await admin(f'mutation {{ publishDataset(id: "{ident}") {{ versions {{ doi }} }} }}')
        )
        doi = published["publishDataset"]["versions"][0]["doi"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=node), base_url="http://node.test"
    ) as http:
        got = await http.get("/datasets/edited/manifest.csv")
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        assert 'filename="edited-manifest.csv"' in got.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(got.text)))
        assert rows and all(r["series"].startswith("http") for r in rows)
        as_json = (await http.get("/datasets/edited/manifest.json")).json()
        assert len(as_json["series"]) == len(rows)
        by_doi = await http.get(f"/datasets/{doi}/manifest.csv?version=1")  # DOIs hold a slash
        assert by_doi.status_code == 200 and by_doi.text == got.text
        assert 'filename="edited-v1-manifest.csv"' in by_doi.headers["content-disposition"]
        assert (await http.get("/datasets/edited/manifest.xml")).status_code == 422


PAGE = """query($after: String) { datasets(first: 2, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { slug } } } }"""


async def test_the_list_pages_with_cursors_newest_first(node: FastAPI) -> None:
    transport = httpx.ASGITransport(app=as_caller(node, ADMIN))
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        admin = asker(http)
        for slug in ("first", "second", "third"):
            data(await admin(CREATE.replace('"edited"', f'"{slug}"')))
        one = data(await admin(PAGE))["datasets"]
        assert one["totalCount"] == 3 and one["pageInfo"]["hasNextPage"]
        after = one["pageInfo"]["endCursor"]
        two = data(await admin(PAGE, {"after": after}))["datasets"]
        assert not two["pageInfo"]["hasNextPage"]
        slugs = [e["node"]["slug"] for page in (one, two) for e in page["edges"]]
        assert slugs == ["third", "second", "first"]
        assert codes(await admin(PAGE, {"after": "bm90LWEtY3Vyc29y"})) == ["BAD_USER_INPUT"]
