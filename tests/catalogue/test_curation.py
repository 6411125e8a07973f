"""The curation queue and curator decisions: counts per source and field, suggestions, accept
and override re-map every stored record carrying the value, the index follows, and only
curators and admins may do it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from catalogue.access import Identity
from catalogue.errors import PermissionDeniedError, ValidationError
from catalogue.models import CodedValue, CuratorDecision, MappingMethod, OutboxEntry
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService
from catalogue.services.coding import CodingService
from catalogue.services.curation import CurationService
from catalogue.services.terms import TermService
from catalogue.store import Store
from ontology import Ontology
from tests.catalogue.coded_catalogue import HEAD_AND_NECK, NECK, harvest

CURATOR = Identity(subject="curator-1", roles=frozenset({"curator"}))
ADMIN = Identity(subject="root", roles=frozenset({"admin"}))
RESEARCHER = Identity(subject="r", roles=frozenset({"researcher"}))
ODD = "Tumefactive demyelination, odd spelling"


def _service(store: Store, ontology: Ontology) -> CurationService:
    coding = CodingService(ontology)
    return CurationService(store, coding, TermService(store, ontology), review_below=0.6)


@pytest.fixture
def curation(store: Store, ontology: Ontology) -> CurationService:
    harvest(store, CodingService(ontology))
    return _service(store, ontology)


def test_queue_counts_values_per_source_and_field(curation: CurationService) -> None:
    queue = curation.queue(CURATOR)
    by_value = {(e.field, e.value): e for e in queue}
    odd = by_value[("diagnosis", ODD)]
    assert odd.records == 7 and [(s.source, s.records) for s in odd.sources] == [
        ("pacs", 5),
        ("xnat", 2),
    ]
    assert (odd.method, odd.concept, odd.confidence) == ("unmapped", None, 0.0)
    neck = by_value[("body_part", "NACKENREGION")]
    assert [(s.source, s.records) for s in neck.sources] == [("pacs", 1), ("xnat", 1)]
    assert by_value[("body_part", "Nackenregion")].records == 1
    assert queue[0].value == ODD  # most records first
    assert ("body_part", "BRAIN") not in by_value  # mapped surely
    only_xnat = curation.queue(CURATOR, source="xnat", field="body_part")
    assert [(e.value, e.records) for e in only_xnat] == [("NACKENREGION", 1)]


def test_queue_suggests_concepts_by_the_values_words(curation: CurationService) -> None:
    entry = next(e for e in curation.queue(CURATOR, field="diagnosis") if e.value == ODD)
    assert entry.suggestions  # "demyelination" starts a synonym of a diagnosis
    assert {s.scheme for s in entry.suggestions} <= {"ICD10WHO", "ICD10CM"}


def test_override_remaps_every_spelling_and_the_index_follows(
    curation: CurationService, store: Store, tmp_path: Path
) -> None:
    backend = EmbeddedBackend(tmp_path / "search")
    indexer = Indexer(store, backend)
    indexer.drain()
    search = SearchService(store, backend, 5)
    head = {"op": "concept", "field": "body_part", "iri": HEAD_AND_NECK}
    before = search.search(ADMIN, {"kind": "series", "filter": head, "size": 50}).total

    result = curation.override(CURATOR, "body_part", "NACKENREGION", "SCTID:45048000")
    assert result.records == 3  # a4 "NACKENREGION", a5 "Nackenregion", b1 "NACKENREGION"
    assert result.values == ["NACKENREGION", "Nackenregion"]
    assert result.concept is not None and result.concept.label == "Neck"
    with store.session() as session:
        rows = session.exec(select(CodedValue).where(CodedValue.concept_iri == NECK)).all()
        assert len(rows) == 3
        assert {r.method for r in rows} == {MappingMethod.CURATOR}
        assert all(r.confidence == 1.0 and HEAD_AND_NECK in r.ancestors for r in rows)
        decision = session.exec(select(CuratorDecision)).one()
        assert (decision.decided_by, decision.concept_iri) == ("curator-1", NECK)
        assert len(session.exec(select(OutboxEntry)).all()) == 3
    assert indexer.drain().entries == 3
    after = search.search(ADMIN, {"kind": "series", "filter": head, "size": 50}).total
    assert (before, after) == (3, 6)  # the brains, then the necks too
    assert not [e for e in curation.queue(CURATOR) if e.field == "body_part"]


def test_a_decision_applies_to_the_next_harvest(store: Store, ontology: Ontology) -> None:
    harvest(store, CodingService(ontology), ("xnat",))
    _service(store, ontology).override(ADMIN, "diagnosis", ODD, None, note="not a diagnosis")
    ontology.set_curator_decisions({})  # as in another process, which reads them at each run
    harvest(store, CodingService(ontology), ("pacs",))
    with store.session() as session:
        rows = session.exec(select(CodedValue).where(CodedValue.original_value == ODD)).all()
    assert len(rows) == 7
    assert {(r.method, r.concept_iri) for r in rows} == {(MappingMethod.CURATOR, None)}
    decisions = _service(store, ontology).decisions(CURATOR)
    assert [(d.value, d.concept, d.note) for d in decisions] == [(ODD, None, "not a diagnosis")]


def test_accept_confirms_the_proposed_concept(curation: CurationService, store: Store) -> None:
    with store.session() as session:  # make one mapping unsure, as a tied label would be
        for row in session.exec(select(CodedValue).where(CodedValue.original_value == "Brain")):
            row.confidence = 0.5
    assert any(e.value == "Brain" for e in curation.queue(CURATOR, field="body_part"))
    result = curation.accept(CURATOR, "body_part", "Brain")
    assert result.concept is not None and result.concept.label == "Brain"
    assert result.records == 3  # "Brain", and "BRAIN" and "brain " normalise alike
    with store.session() as session:
        methods = session.exec(
            select(CodedValue.method).where(col(CodedValue.field) == "body_part").distinct()
        ).all()
    assert MappingMethod.CURATOR in methods
    with pytest.raises(ValidationError, match="override"):
        curation.accept(CURATOR, "body_part", "NACKENREGION")  # nothing proposed


def test_bad_decisions_are_refused(curation: CurationService) -> None:
    with pytest.raises(ValidationError, match="no term"):
        curation.override(CURATOR, "body_part", "NACKENREGION", "SCTID:0000")
    with pytest.raises(ValidationError, match="unknown coded field"):
        curation.override(CURATOR, "colour", "red", None)


@pytest.mark.parametrize("identity", [Identity(), RESEARCHER])
def test_only_curators_and_admins_curate(curation: CurationService, identity: Identity) -> None:
    with pytest.raises(PermissionDeniedError):
        curation.queue(identity)
    with pytest.raises(PermissionDeniedError):
        curation.override(identity, "body_part", "NACKENREGION", "SCTID:45048000")
    with pytest.raises(PermissionDeniedError):
        curation.decisions(identity)
    site_curator = Identity(subject="c", roles=frozenset({"curator:pacs-site"}))
    assert curation.queue(site_curator)
