"""End to end with the dataset service: a cohort across two sites published in two versions on
the DataCite contract server; every export of the dataset and both versions validates, and no
subject pseudonym appears in any of them."""

from __future__ import annotations

import json

import jsonschema
from lxml import etree
from sqlmodel import Session, select

from catalogue.exports.citation import citation
from catalogue.exports.datacite import to_datacite_json, to_datacite_xml
from catalogue.exports.dcat import FORMATS, dataset_graph, serialise
from catalogue.exports.landing import render_landing
from catalogue.exports.oaipmh import OaiConfig, OaiProvider
from catalogue.exports.schemaorg import to_schemaorg
from catalogue.exports.view import DatasetView, load_view
from catalogue.models import DatasetVersion, Subject
from catalogue.publishing.service import DatasetService
from tests.exports.conftest import (
    GOOGLE_REQUIRED,
    KERNEL_45_XSD,
    NODE,
    OAI_PMH_XSD,
    datacite_json_schema,
    xml_schema,
)
from tests.exports.rdf import jsonld_graph, shacl
from tests.exports.test_dcat import SHAPES
from tests.publishing.conftest import (  # noqa: F401 (fixtures)
    ADMIN,
    Node,
    contract,
    datacite_url,
    node,
    provider,
    service,
)
from tests.publishing.test_flow import METADATA, MR_COHORT, _harvest_one_more_subject


def exports(view: DatasetView) -> list[str]:
    """Every representation of one view, each checked against its schema or shapes."""
    doc = to_datacite_json(view)
    jsonschema.Draft201909Validator(datacite_json_schema()).validate(doc)
    xml = to_datacite_xml(view)
    xml_schema(KERNEL_45_XSD).assertValid(etree.fromstring(xml))
    graph = dataset_graph(view)
    ok, report = shacl(graph, *SHAPES)
    assert ok, report
    schemaorg = to_schemaorg(view)
    ok, report = shacl(jsonld_graph(schemaorg), GOOGLE_REQUIRED)
    assert ok, report
    texts = [json.dumps(doc), xml.decode(), json.dumps(schemaorg), render_landing(view)]
    texts += [serialise(graph, media).decode() for media in FORMATS]
    return texts + [citation(view, style) for style in ("text", "bibtex", "ris")]


def test_a_published_cohort_dataset_validates_in_every_format(
    node: Node,  # noqa: F811 (the fixture)
    service: DatasetService,  # noqa: F811
) -> None:
    created = service.create(
        ADMIN,
        {"slug": "brain-mr", "title": "Brain MR across two sites", "query": MR_COHORT,
         "metadata": METADATA},
    )  # fmt: skip
    service.reserve(ADMIN, created.id)
    service.publish(ADMIN, created.id)
    _harvest_one_more_subject(node)
    service.new_version(ADMIN, created.id)
    final = service.publish(ADMIN, created.id)
    assert [v.version for v in final.versions] == ["1", "2"]

    texts: list[str] = []
    with Session(node.store.engine) as session:
        views = [load_view(session, NODE, "dataset", created.id)]
        for version in session.exec(select(DatasetVersion)).all():
            views.append(load_view(session, NODE, "dataset_version", version.id))
        pseudonyms = [s.native_id for s in session.exec(select(Subject)).all()]
    for view in views:
        texts += exports(view)
    assert {v.version for v in views} == {None, "1", "2"}

    oai = OaiProvider(node.store, NODE, OaiConfig("http://node.test/oai", "n", "c@node.test"))
    for prefix in ("oai_dc", "oai_datacite"):
        body = b"".join(oai.respond([("verb", "ListRecords"), ("metadataPrefix", prefix)]))
        xml_schema(OAI_PMH_XSD).assertValid(etree.fromstring(body))
        assert b"<setSpec>site:north</setSpec>" in body
        texts.append(body.decode())
    assert pseudonyms and not [p for p in pseudonyms if any(p in text for text in texts)]
