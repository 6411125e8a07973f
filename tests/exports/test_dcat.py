"""DCAT-AP output conforms to the official 3.0.1 SHACL shapes, in every RDF syntax."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD
from sqlmodel import Session

from catalogue.exports.dcat import DCAT, FORMATS, HEALTH, catalogue_graph, dataset_graph, serialise
from catalogue.exports.view import dataset_view, version_view
from catalogue.models import Dataset, DatasetVersion
from catalogue.store import Store
from tests.exports.conftest import DCAT_AP, NODE
from tests.exports.rdf import jsonld_graph, shacl

Published = tuple[Dataset, list[DatasetVersion]]
SHAPES = (
    DCAT_AP / "shacl" / "dcat-ap-SHACL.ttl",
    DCAT_AP / "html" / "shacl" / "shapes.ttl",
    DCAT_AP / "html" / "shacl" / "range.ttl",
)  # the release's ranges.ttl names property shapes it never defines


def reparse(graph: Graph, media_type: str) -> Graph:
    data = serialise(graph, media_type)
    if media_type == "application/ld+json":
        return jsonld_graph(data.decode())
    return Graph().parse(data=data, format=FORMATS[media_type].replace("pretty-", ""))


@pytest.mark.parametrize("media_type", list(FORMATS))
def test_dataset_and_versions_conform_in_every_syntax(
    sqlite_store: Store, sample: Published, media_type: str
):
    dataset, versions = sample
    with Session(sqlite_store.engine) as session:
        graph = dataset_graph(dataset_view(session, NODE, dataset))
        for version in versions:
            dataset_graph(version_view(session, NODE, version), graph)
    parsed = reparse(graph, media_type)
    assert len(parsed) == len(graph)
    ok, report = shacl(parsed, *SHAPES)
    assert ok, report


def test_health_and_version_properties(sqlite_store: Store, sample: Published):
    dataset, versions = sample
    with Session(sqlite_store.engine) as session:
        concept = dataset_view(session, NODE, dataset)
        second = version_view(session, NODE, versions[1])
    graph = dataset_graph(second)
    node = URIRef(second.iri)
    six = Literal(6, datatype=XSD.nonNegativeInteger)
    assert (node, HEALTH.numberOfRecords, six) in graph
    assert (node, DCAT.isVersionOf, URIRef(concept.iri)) in graph
    assert len(list(graph.objects(node, DCAT.distribution))) == 2  # one route per site
    assert set(dataset_graph(concept).objects(URIRef(concept.iri), DCAT.hasVersion)) == {
        URIRef(v.iri or "") for v in versions
    }


def test_a_catalogue_page_conforms(sqlite_store: Store, sample: Published):
    dataset, _ = sample
    with Session(sqlite_store.engine) as session:
        views = [dataset_view(session, NODE, dataset)]
    page = {"self": "http://node.test/catalog?page_size=1", "total": 1, "first": None}
    graph = catalogue_graph(NODE.base_url, NODE.name, views, page)
    ok, report = shacl(graph, *SHAPES)
    assert ok, report


def test_the_shapes_catch_a_dataset_without_title(sqlite_store: Store, sample: Published):
    dataset, _ = sample
    with Session(sqlite_store.engine) as session:
        view = dataset_view(session, NODE, dataset)
    graph = dataset_graph(view)
    graph.remove((URIRef(view.iri), URIRef("http://purl.org/dc/terms/title"), None))
    assert not shacl(graph, *SHAPES)[0]
