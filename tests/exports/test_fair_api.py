"""Dataset IRIs resolve with content negotiation; the DCAT catalogue pages; OAI-PMH over HTTP;
no patient identifier in any representation."""

from __future__ import annotations

import json
import re

import httpx
import jsonschema
import pytest
from lxml import etree
from rdflib import Graph, URIRef
from sqlmodel import Session

from catalogue.exports.oaipmh import assign_sets
from catalogue.exports.schemaorg import to_schemaorg
from catalogue.exports.view import Node, dataset_view
from catalogue.models import (
    Collection,
    Dataset,
    DatasetVersion,
    DoiState,
    Site,
    Source,
    Subject,
    utcnow,
)
from catalogue.models.publishing import DatasetCuration
from catalogue.store import Store
from tests.exports.conftest import (
    KERNEL_45_XSD,
    OAI_PMH_XSD,
    datacite_json_schema,
    publish,
    xml_schema,
)
from tests.exports.rdf import jsonld_graph, shacl
from tests.exports.test_dcat import SHAPES

pytestmark = pytest.mark.anyio
HYDRA = "http://www.w3.org/ns/hydra/core#"
Published = tuple[Dataset, list[DatasetVersion]]


def links(response: httpx.Response) -> list[tuple[str, str]]:
    return re.findall(r'<([^>]+)>; rel="([^"]+)"', response.headers["link"])


async def test_landing_page_is_html_with_jsonld_and_signposting(
    client: httpx.AsyncClient, published: Published, store: Store
):
    dataset, _ = published
    response = await client.get(dataset.iri or "", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert [attrs for attrs, _ in scripts] == [' type="application/ld+json"']  # no JavaScript
    embedded = json.loads(scripts[0][1])
    node = Node("http://node.test", "Imaging catalogue")
    with Session(store.engine) as session:
        assert embedded == to_schemaorg(dataset_view(session, node, dataset))
    expected = ["Glioma MRI across two sites", "north-hospital", "data access committee"]
    expected += ["Version 1.0", "Version 2.0", "@misc{10_80001_glioma_mri,", "TY  - DATA"]
    for text in expected:
        assert text in html
    rels = links(response)
    assert ("https://doi.org/10.80001/glioma-mri", "cite-as") in rels
    assert ("https://orcid.org/0000-0002-1825-0097", "author") in rels
    assert ("https://creativecommons.org/licenses/by/4.0/legalcode", "license") in rels
    assert ("https://schema.org/Dataset", "type") in rels
    assert ("https://north.example/dac", "item") in rels
    assert sum(rel == "describedby" for _, rel in rels) == 6
    for url, rel in rels:
        if rel == "describedby":
            assert (await client.get(url)).status_code == 200
    assert response.headers["vary"] == "Accept"
    head = await client.head(dataset.iri or "")  # link checkers and resolvers ask HEAD
    assert head.status_code == 200 and head.headers["link"] == response.headers["link"]


async def test_every_machine_representation_validates(
    client: httpx.AsyncClient, published: Published
):
    _, versions = published
    iri = versions[1].iri or ""
    as_json = await client.get(iri, headers={"Accept": "application/vnd.datacite.datacite+json"})
    jsonschema.Draft201909Validator(datacite_json_schema()).validate(as_json.json())
    assert as_json.json()["doi"] == "10.80001/glioma-mri.v2"
    as_xml = await client.get(iri, params={"format": "datacite-xml"})
    xml_schema(KERNEL_45_XSD).assertValid(etree.fromstring(as_xml.content))
    turtle = await client.get(iri, headers={"Accept": "text/turtle;q=0.9, text/html;q=0.1"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=turtle.text, format="turtle")
    assert shacl(graph, *SHAPES)[0]
    jsonld = await client.get(iri, headers={"Accept": "application/ld+json"})
    assert len(jsonld_graph(jsonld.text)) == len(graph)
    rdfxml = await client.get(iri, headers={"Accept": "application/rdf+xml"})
    assert len(Graph().parse(data=rdfxml.text, format="xml")) == len(graph)
    bibtex = await client.get(iri, headers={"Accept": "application/x-bibtex"})
    assert bibtex.text.startswith("@misc{10_80001_glioma_mri_v2,")
    ris = await client.get(iri, params={"format": "ris"})
    assert ris.text.startswith("TY  - DATA")


async def test_unacceptable_and_unpublished(client: httpx.AsyncClient, store: Store):
    dataset, _ = publish(store)
    assert (await client.get(dataset.iri or "", headers={"Accept": "image/png"})).status_code == 406
    bad = await client.get(dataset.iri or "", params={"format": "pdf"})
    assert bad.status_code == 406 and bad.json()["error"]["code"] == "not_acceptable"
    with store.session() as session:
        draft = Dataset(slug="draft", title="Draft", state=DoiState.DRAFT)
        session.add(draft)
    assert (await client.get(draft.iri or "")).status_code == 404
    with store.session() as session:  # withdrawn before its DOI was ever public
        reserved = Dataset(slug="reserved", title="Reserved", state=DoiState.RESERVED)
        session.add(reserved)
        session.flush()
        session.add(DatasetCuration(dataset_id=reserved.id, tombstoned_at=utcnow()))
    assert (await client.get(reserved.iri or "")).status_code == 404
    missing = await client.get("/id/dataset/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_a_withdrawn_dataset_resolves_to_a_tombstone(client: httpx.AsyncClient, store: Store):
    dataset, versions = publish(store, slug="withdrawn", deleted=True)
    page = await client.get(dataset.iri or "")
    assert page.status_code == 410
    assert "This dataset has been withdrawn" in page.text
    assert "Withdrawn at the request of a site." in page.text
    assert ("https://doi.org/10.80001/withdrawn", "cite-as") in links(page)
    version = await client.get(versions[0].iri or "")
    assert version.status_code == 410 and "withdrawn" in version.text
    data = await client.get(dataset.iri or "", params={"format": "datacite-json"})
    assert data.status_code == 410 and data.json()["error"]["code"] == "gone"


async def test_the_catalogue_pages_with_hydra(client: httpx.AsyncClient, store: Store):
    made = {publish(store, slug=f"ds-{n}", versions=1)[0].iri for n in range(3)}
    publish(store, slug="gone", deleted=True)
    url: str | None = "/catalog?page_size=2"
    seen: set[str] = set()
    while url:
        response = await client.get(url, headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=response.text, format="turtle")
        ok, report = shacl(graph, *SHAPES)
        assert ok, report
        catalogue = URIRef("http://node.test/catalog")
        seen |= {
            str(o) for o in graph.objects(catalogue, URIRef("http://www.w3.org/ns/dcat#dataset"))
        }
        assert int(graph.value(catalogue, URIRef(HYDRA + "totalItems"))) == 3
        view = graph.value(catalogue, URIRef(HYDRA + "view"))
        following = graph.value(view, URIRef(HYDRA + "next"))
        url = str(following).removeprefix("http://node.test") if following else None
    assert seen == made
    jsonld = await client.get("/catalog", params={"format": "jsonld"})
    assert len(jsonld_graph(jsonld.text)) > 0


async def test_oai_over_get_and_post(client: httpx.AsyncClient, published: Published):
    for response in (
        await client.get("/oai", params={"verb": "ListRecords", "metadataPrefix": "oai_datacite"}),
        await client.post("/oai", data={"verb": "Identify"}),
        await client.get("/oai"),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")
        xml_schema(OAI_PMH_XSD).assertValid(etree.fromstring(response.content))


async def test_no_patient_identifier_in_any_export(client: httpx.AsyncClient, store: Store):
    """Members are linked by IRI only; a subject's pseudonym never reaches an export."""
    pseudonym = "sub-7f3a9c2e51d4"
    with store.session() as session:
        site = Site(slug="north-hospital", name="North Hospital")
        session.add(site)
        session.flush()
        source = Source(name="north-pacs", kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()
        collection = Collection(source_id=source.id, native_id="c", site_id=site.id, title="Glioma")
        session.add(collection)
        session.flush()
        subject = Subject(source_id=source.id, native_id=pseudonym, collection_id=collection.id)
        session.add(subject)
    dataset, versions = publish(store)
    with store.session() as session:
        for version in versions:
            row = session.get(DatasetVersion, version.id)
            assert row is not None
            row.members = [subject.iri or ""]
    with Session(store.engine) as session:
        assign_sets(session, dataset.id, [subject.iri or ""])
        session.commit()
    bodies = []
    for iri in [dataset.iri, *(v.iri for v in versions)]:
        for fmt in ("html", "datacite-json", "datacite-xml", "turtle", "jsonld", "rdfxml",
                    "schemaorg", "citation", "bibtex", "ris"):  # fmt: skip
            bodies.append((await client.get(iri or "", params={"format": fmt})).text)
    for prefix in ("oai_dc", "oai_datacite"):
        oai = await client.get("/oai", params={"verb": "ListRecords", "metadataPrefix": prefix})
        bodies.append(oai.text)
    bodies.append((await client.get("/catalog")).text)
    assert "collection:" in bodies[-2]  # the record sits in its collection's set
    assert not [b for b in bodies if pseudonym in b or "7f3a9c2e51d4" in b]
    assert not [b for b in bodies if str(subject.id) in b and "<record" not in b]


async def test_the_routes_are_in_the_openapi_reference(client: httpx.AsyncClient):
    paths = set((await client.get("/openapi.json")).json()["paths"])
    assert {"/id/dataset/{dataset_id}", "/id/dataset_version/{version_id}"} <= paths
    assert {"/catalog", "/oai"} <= paths
