"""Mapping at ingest: every coded field of a harvested record becomes a coded value with its
concept and ancestors, and a concept filter on "head" finds brain series in both search
backends, on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from catalogue.access import Identity
from catalogue.models import CodedValue, MappingMethod, Series, Subject
from catalogue.search.backend import SearchBackend
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService
from catalogue.services.coding import CodingService
from catalogue.store import Store
from ontology import Ontology, vocab
from tests.catalogue.coded_catalogue import BRAIN, CHEST, HEAD, harvest

ADMIN = Identity(subject="root", roles=frozenset({"admin"}))


def _coded(store: Store, native_id: str) -> dict[str, CodedValue]:
    with store.session() as session:
        series = session.exec(select(Series).where(Series.native_id == native_id)).one()
        rows = session.exec(select(CodedValue).where(CodedValue.entity_id == series.id)).all()
        return {row.field: row for row in rows}


def test_series_fields_map_with_their_ancestors(store: Store, ontology: Ontology) -> None:
    harvest(store, CodingService(ontology))
    mprage = _coded(store, "a1")
    assert set(mprage) == {"modality", "body_part", "sequence_type"}
    body = mprage["body_part"]
    assert (body.original_value, body.concept_iri, body.label) == ("BRAIN", BRAIN, "Brain")
    assert (body.scheme, body.code, body.method, body.confidence) == (
        "SCTID",
        "12738006",
        MappingMethod.EXACT_CODE,
        1.0,
    )
    assert HEAD in body.ancestors and BRAIN not in body.ancestors
    assert mprage["modality"].concept_iri == vocab.DCM + "MR"
    sequence = mprage["sequence_type"]
    assert (sequence.original_value, sequence.concept_iri) == (
        "t1_mprage_sag_p2",
        vocab.SEQUENCE + "T1w",
    )
    assert sequence.method is MappingMethod.RULE and 0.6 <= sequence.confidence < 1
    assert vocab.SEQUENCE + "anatomical" in sequence.ancestors
    ct = _coded(store, "a3")
    assert set(ct) == {"modality", "body_part"}  # no MR sequence type for a CT series
    assert ct["body_part"].concept_iri == CHEST
    assert _coded(store, "b2")["sequence_type"].concept_iri == vocab.SEQUENCE + "bold"


def test_subject_species_and_diagnoses_map_or_wait_unmapped(
    store: Store, ontology: Ontology
) -> None:
    harvest(store, CodingService(ontology), ("xnat",))
    with store.session() as session:
        subject = session.exec(select(Subject).where(Subject.native_id == "p-b1")).one()
        rows = session.exec(
            select(CodedValue)
            .where(CodedValue.entity_id == subject.id)
            .order_by(col(CodedValue.field), col(CodedValue.original_value))
        ).all()
    found = [(r.field, r.original_value, r.concept_iri, r.method) for r in rows]
    assert found == [
        ("diagnosis", "G35", vocab.ICD10WHO + "G35", MappingMethod.EXACT_CODE),
        ("diagnosis", "Tumefactive demyelination, odd spelling", None, MappingMethod.UNMAPPED),
        ("species", "Homo sapiens", vocab.NCBITAXON + "9606", MappingMethod.LABEL),
    ]
    assert vocab.ICD10WHO + "VI" in rows[0].ancestors  # the chapter


def test_reharvest_replaces_coded_values(store: Store, ontology: Ontology) -> None:
    coding = CodingService(ontology)
    harvest(store, coding, ("pacs",))
    harvest(store, coding, ("pacs",))  # unchanged: nothing rewritten
    with store.session() as session:
        before = len(session.exec(select(CodedValue)).all())
        series = session.exec(select(Series).where(Series.native_id == "a1")).one()
        series.content_hash = "changed at the source"  # the next harvest rewrites it
    harvest(store, coding, ("pacs",))
    with store.session() as session:
        assert len(session.exec(select(CodedValue)).all()) == before
    assert _coded(store, "a1")["body_part"].concept_iri == BRAIN


def test_without_an_ontology_species_and_diagnoses_stay_raw(store: Store) -> None:
    harvest(store, None, ("xnat",))
    with store.session() as session:
        rows = session.exec(select(CodedValue)).all()
    assert {r.field for r in rows} == {"species", "diagnosis"}
    assert {r.method for r in rows} == {MappingMethod.UNMAPPED}


@pytest.fixture(params=["embedded", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    if request.param == "embedded":
        yield EmbeddedBackend(tmp_path / "search")
        return
    from catalogue.search.elasticsearch import ElasticsearchBackend

    prefix = f"test-{uuid.uuid4().hex[:8]}"
    es = ElasticsearchBackend(request.getfixturevalue("elasticsearch_url"), prefix=prefix)
    try:
        yield es
    finally:
        found = es.client.indices.get(index=f"{prefix}-*", allow_no_indices=True)
        if found:
            es.client.indices.delete(index=list(found))
        es.close()


def _series(service: SearchService, iri: str, descendants: bool = True) -> set[str]:
    query = {"op": "concept", "field": "body_part", "iri": iri, "descendants": descendants}
    result = service.search(ADMIN, {"kind": "series", "filter": query, "size": 100})
    return {hit.id for hit in result.hits}


def _ids(store: Store, *native_ids: str) -> set[str]:
    with store.session() as session:
        rows = session.exec(select(Series.id).where(col(Series.native_id).in_(native_ids)))
        return {str(i) for i in rows}


def test_head_finds_brain_through_the_search_service(
    store: Store, ontology: Ontology, backend: SearchBackend
) -> None:
    harvest(store, CodingService(ontology))
    Indexer(store, backend).drain()
    service = SearchService(store, backend, 5)
    brains = _ids(store, "a1", "a2", "b2")  # "BRAIN", "Brain", "brain "
    assert _series(service, HEAD) == brains
    assert _series(service, BRAIN) == brains
    assert _series(service, HEAD, descendants=False) == set()
    assert _series(service, CHEST) == _ids(store, "a3")
