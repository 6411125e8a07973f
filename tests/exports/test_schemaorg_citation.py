"""schema.org JSON-LD meets Google's required shapes; citations in three styles."""

from __future__ import annotations

import pytest
from pyld import jsonld
from sqlmodel import Session

from catalogue.exports.citation import citation
from catalogue.exports.schemaorg import to_schemaorg
from catalogue.exports.view import dataset_view, version_view
from catalogue.models import Dataset, DatasetVersion
from catalogue.store import Store
from tests.conftest import SHARED_DATA
from tests.exports.conftest import GOOGLE_REQUIRED, NODE
from tests.exports.rdf import RemoteContextError, jsonld_graph, shacl

Published = tuple[Dataset, list[DatasetVersion]]


def conforms(doc: dict) -> tuple[bool, str]:
    return shacl(jsonld_graph(doc), GOOGLE_REQUIRED)


def test_schemaorg_meets_google_required_shapes(sqlite_store: Store, sample: Published):
    dataset, versions = sample
    with Session(sqlite_store.engine) as session:
        docs = [to_schemaorg(dataset_view(session, NODE, dataset))]
        docs += [to_schemaorg(version_view(session, NODE, v)) for v in versions]
    for doc in docs:
        ok, report = conforms(doc)
        assert ok, report
    assert docs[1]["creator"][0]["@id"] == "https://orcid.org/0000-0002-1825-0097"
    assert docs[1]["license"] == "https://creativecommons.org/licenses/by/4.0/legalcode"


def test_the_shapes_catch_a_dataset_without_description(sqlite_store: Store, sample: Published):
    dataset, _ = sample
    with Session(sqlite_store.engine) as session:
        doc = to_schemaorg(dataset_view(session, NODE, dataset))
    del doc["description"]
    assert not conforms(doc)[0]


def test_citations(sqlite_store: Store, sample: Published):
    _, versions = sample
    with Session(sqlite_store.engine) as session:
        view = version_view(session, NODE, versions[0])
    assert citation(view, "text") == (
        "Curie, Marie (2026). Glioma MRI across two sites. Version 1.0. "
        "Glioma Imaging Consortium. https://doi.org/10.80001/glioma-mri.v1"
    )
    bibtex = citation(view, "bibtex")
    assert bibtex.startswith("@misc{10_80001_glioma_mri_v1,\n")
    assert "  doi = {10.80001/glioma-mri.v1}" in bibtex
    ris = citation(view, "ris").split("\r\n")
    assert ris[:3] == ["TY  - DATA", "AU  - Curie, Marie", "TI  - Glioma MRI across two sites"]
    assert "DO  - 10.80001/glioma-mri.v1" in ris
    assert ris[-2] == "ER  - "


def test_a_remote_context_is_refused_not_fetched():
    """Published examples name `https://schema.org/` as their context: nothing is fetched."""
    example = SHARED_DATA / "schemaorg" / "science-on-schema.org" / "examples" / "dataset"
    with pytest.raises(jsonld.JsonLdError) as raised:
        jsonld_graph((example / "minimal.jsonld").read_text())
    causes, error = [], raised.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__ or getattr(error, "cause", None)
    assert [str(e) for e in causes if isinstance(e, RemoteContextError)] == [
        "refusing to fetch https://schema.org/"
    ]
