"""What the partner harvesters store as `meta` is DataCite-shaped: every real record and
catalogue in ../shared/data that they read validates against DataCite's 4.5 JSON schema. The
top-level `required` list is left out: a partner may say nothing of creators or a year, and
what it does not say is not invented."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree
from rdflib import Graph

from harvesters.dcat import mapping as dcat_mapping
from harvesters.dcat.jsonld import LocalContexts
from harvesters.dcat.pages import BadPageError, parse_page
from harvesters.oaipmh.harvester import _dataset
from harvesters.oaipmh.protocol import OAI, _record
from tests.conftest import SHARED_DATA
from tests.harvesters.dcat_catalogue import CKAN, SEMIC
from tests.harvesters.oai_repository import SICKLE, VIRINGO

SCHEMA = SHARED_DATA / "datacite" / "pypi-datacite-1.4.1" / "schemas" / "datacite-v4.5.json"
KINDS = {".ttl": "turtle", ".rdf": "xml", ".jsonld": "json-ld"}
BROKEN_UPSTREAM = {  # an undeclared prefix; statements without their closing dot
    "dataset.ttl",
    "example-bee-population-dataset-series-api.ttl",
    "example-bee-population-dataset-series-combined.ttl",
}
CATALOGUES = sorted(
    [
        *SEMIC.glob("example-*.ttl"),
        *SEMIC.glob("example-*.jsonld"),
        *CKAN.glob("*.ttl"),
        *CKAN.glob("*.rdf"),
        *CKAN.glob("*.jsonld"),
    ]
)
RECORDS = [
    (VIRINGO / "oai_listrecords_dc.xml", "oai_dc"),
    (VIRINGO / "oai_getrecord_dc.xml", "oai_dc"),
    (VIRINGO / "oai_getrecord_oaidatacite.xml", "oai_datacite"),
    (VIRINGO / "oai_getrecord_datacite.xml", "datacite"),
    (SICKLE / "ListRecords.xml", "oai_dc"),
    (SICKLE / "GetRecord.xml", "oai_dc"),
    (SICKLE / "GetRecord_utf8test.xml", "oai_dc"),
]


@cache
def validator() -> Any:
    schema = {k: v for k, v in json.loads(SCHEMA.read_text()).items() if k != "required"}
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=jsonschema.FormatChecker())


def _errors(meta: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator().iter_errors(meta)]


@pytest.mark.parametrize("file", CATALOGUES, ids=lambda f: f.name)
def test_dcat_metadata_is_datacite_shaped(file: Path) -> None:
    def read() -> Graph:
        return parse_page(
            file.read_bytes(), KINDS[file.suffix], "https://x.example/", LocalContexts()
        )

    if file.name in BROKEN_UPSTREAM:
        with pytest.raises(BadPageError, match="not valid Turtle"):
            read()
        return
    graph = read()
    assert any(True for _ in dcat_mapping.dataset_nodes(graph))
    for node in dcat_mapping.dataset_nodes(graph):
        try:
            meta = dcat_mapping.dataset_record(graph, node, "en").meta
        except dcat_mapping.MappingError:
            continue
        assert _errors(meta) == [], str(node)


@pytest.mark.parametrize(("file", "prefix"), RECORDS, ids=lambda v: getattr(v, "name", v))
def test_oai_metadata_is_datacite_shaped(file: Path, prefix: str) -> None:
    root = etree.fromstring(file.read_bytes())
    records = [_record(r) for r in root.iter(f"{OAI}record")]
    live = [r for r in records if not r.header.deleted]
    assert live
    for record in live:
        assert _errors(_dataset(record, prefix).meta) == [], record.header.identifier
