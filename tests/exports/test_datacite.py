"""DataCite JSON validates against the kernel-4.5 JSON schema and XML against the kernel XSD."""

from __future__ import annotations

import jsonschema
import pytest
from lxml import etree
from sqlmodel import Session

from catalogue.exports.datacite import to_datacite_json, to_datacite_xml
from catalogue.exports.view import DatasetView, dataset_view, version_view
from catalogue.models import Dataset, DatasetVersion
from catalogue.store import Store
from tests.exports.conftest import KERNEL_45_XSD, NODE, datacite_json_schema, xml_schema

Published = tuple[Dataset, list[DatasetVersion]]


def views(sqlite_store: Store, sample: Published) -> list[DatasetView]:
    dataset, versions = sample
    with Session(sqlite_store.engine) as session:
        return [dataset_view(session, NODE, dataset)] + [
            version_view(session, NODE, v) for v in versions
        ]


def test_json_and_xml_validate_for_concept_and_versions(sqlite_store: Store, sample: Published):
    validator = jsonschema.Draft201909Validator(datacite_json_schema())
    for view in views(sqlite_store, sample):
        doc = to_datacite_json(view)
        errors = [e.message for e in validator.iter_errors(doc)]
        assert errors == [], errors
        xml = etree.fromstring(to_datacite_xml(view))
        xml_schema(KERNEL_45_XSD).assertValid(xml)
        ns = {"d": "http://datacite.org/schema/kernel-4"}
        assert xml.findtext("d:identifier", namespaces=ns) == view.doi


def test_versions_link_to_their_concept_and_neighbours(sqlite_store: Store, sample: Published):
    concept, v1, v2 = views(sqlite_store, sample)
    relations = {
        view.version: {
            (r["relationType"], r["relatedIdentifier"])
            for r in to_datacite_json(view)["relatedIdentifiers"]
        }
        for view in (concept, v1, v2)
    }
    assert ("HasVersion", "10.80001/glioma-mri.v1") in relations[None]
    assert ("HasVersion", "10.80001/glioma-mri.v2") in relations[None]
    assert ("IsVersionOf", "10.80001/glioma-mri") in relations["1.0"]
    assert ("IsPreviousVersionOf", "10.80001/glioma-mri.v2") in relations["1.0"]
    assert ("IsNewVersionOf", "10.80001/glioma-mri.v1") in relations["2.0"]
    assert ("IsDescribedBy", "10.1000/paper.2025.1") in relations["2.0"]


def test_fields_outside_the_kernel_never_reach_datacite(sqlite_store: Store, sample: Published):
    doc = to_datacite_json(views(sqlite_store, sample)[2])
    assert "curatorNote" not in doc
    assert doc["url"].startswith("http://node.test/id/dataset_version/")
    assert doc["version"] == "2.0"


@pytest.mark.parametrize("bad", [{"creators": [{"nameType": "Personal"}]}])
def test_the_validator_rejects_broken_metadata(sqlite_store: Store, sample: Published, bad):
    doc = to_datacite_json(views(sqlite_store, sample)[0]) | bad
    assert not jsonschema.Draft201909Validator(datacite_json_schema()).is_valid(doc)
