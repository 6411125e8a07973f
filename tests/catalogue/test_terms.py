"""Term look-up (CURIE, IRI, autocomplete, synonyms, descendants) with record counts that follow
the access rules, and ontology files that cannot be read named with their line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from catalogue.access import ANONYMOUS, Identity
from catalogue.errors import ConfigurationError, NotFoundError, ValidationError
from catalogue.models import Collection, Visibility
from catalogue.services.coding import CodingService, load_ontology
from catalogue.services.terms import TermService
from catalogue.settings import Settings
from catalogue.store import Store
from ontology import Ontology
from tests.catalogue.coded_catalogue import BRAIN, HEAD, HEAD_AND_NECK, harvest

ADMIN = Identity(subject="root", roles=frozenset({"admin"}))


@pytest.fixture
def terms(store: Store, ontology: Ontology) -> TermService:
    return TermService(store, ontology, suppression_threshold=5)


def test_by_curie_alias_or_iri(terms: TermService) -> None:
    for key in ("SCTID:12738006", "SCT:12738006", "snomedct:12738006", BRAIN):
        term = terms.get(key)
        assert (term.iri, term.curie, term.label, term.scheme) == (
            BRAIN,
            "SCTID:12738006",
            "Brain",
            "SCTID",
        )
    assert terms.get(BRAIN).parents == ["http://snomed.info/id/1101003"]  # intracranial
    with pytest.raises(NotFoundError):
        terms.get("SCTID:0000")


def test_autocomplete_by_label_prefix_and_synonym(terms: TermService) -> None:
    assert terms.autocomplete("brai", field="body_part")[0].iri == BRAIN
    found = terms.autocomplete("Kopf", field="body_part")  # a German synonym of head
    assert HEAD in [t.iri for t in found]
    mouse = terms.autocomplete("house mouse", field="species")
    assert mouse and mouse[0].label == "Mus musculus"
    assert all(t.scheme == "SCTID" for t in terms.autocomplete("l", field="body_part", limit=20))
    with pytest.raises(ValidationError):
        terms.autocomplete("brain", field="colour")
    with pytest.raises(ValidationError):
        terms.autocomplete("brain", limit=1000)


def test_descendants_and_ancestors(terms: TermService) -> None:
    below = [t.iri for t in terms.descendants("SCTID:69536005", limit=100)]
    assert BRAIN in below and HEAD not in below
    assert HEAD in [t.iri for t in terms.ancestors(BRAIN)]


def test_counts_records_of_a_concept_and_below(
    terms: TermService, store: Store, ontology: Ontology
) -> None:
    harvest(store, CodingService(ontology))
    brain = terms.get("SCTID:12738006", identity=ADMIN, counts=True)
    assert brain.count is not None and brain.count.records == 3
    counted = {t.iri: t.count for t in terms.autocomplete("head", field="body_part", counts=True)}
    head = counted[HEAD]
    assert head is not None and head.records == 3  # the brains
    assert terms.record_counts([HEAD_AND_NECK], ADMIN)[HEAD_AND_NECK].records == 3
    assert terms.get("ICD10WHO:G35", counts=True).count.records == 7  # type: ignore[union-attr]
    assert terms.get("SCTID:45048000", counts=True).count.records == 0  # type: ignore[union-attr]


def test_counts_below_the_threshold_are_suppressed_for_aggregate_access(
    terms: TermService, store: Store, ontology: Ontology
) -> None:
    harvest(store, CodingService(ontology))
    with store.session() as session:
        for coll in session.exec(select(Collection)):
            coll.visibility = Visibility.AGGREGATE
    anonymous = terms.record_counts(
        [BRAIN, "http://purl.obolibrary.org/obo/NCBITaxon_9606"], ANONYMOUS
    )
    assert (anonymous[BRAIN].records, anonymous[BRAIN].suppressed) == (None, True)
    humans = anonymous["http://purl.obolibrary.org/obo/NCBITaxon_9606"]
    assert (humans.records, humans.suppressed) == (7, False)
    assert terms.record_counts([BRAIN], ADMIN)[BRAIN].records == 3
    with store.session() as session:
        for coll in session.exec(select(Collection)):
            coll.visibility = Visibility.PRIVATE
    assert terms.record_counts([BRAIN], ANONYMOUS)[BRAIN].records == 0


def test_user_files_join_and_broken_ones_name_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "extra.ttl"
    good.write_text(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<https://example.org/dx/odd> a skos:Concept ;\n"
        '    skos:prefLabel "Tumefactive demyelination" .\n'
    )
    settings = Settings(data_dir=tmp_path / "var", ontology_files=[good])
    assert load_ontology(settings).term("https://example.org/dx/odd") is not None
    bad = tmp_path / "broken.ttl"
    bad.write_text("@prefix ex: <https://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e\n")
    with pytest.raises(ConfigurationError, match=r"broken\.ttl:\d+: Turtle syntax error") as caught:
        load_ontology(Settings(data_dir=tmp_path / "var", ontology_files=[bad]))
    assert str(caught.value.details[0].location).startswith(str(bad))
    table = tmp_path / "site.sssom.tsv"
    table.write_text(
        "# curie_map:\n#   SCTID: http://snomed.info/id/\n#   site: https://example.org/site/\n"
        "# mapping_set_id: https://example.org/site.sssom.tsv\n"
        "subject_id\tpredicate_id\tobject_id\tmapping_justification\tconfidence\n"
        "site:a\tskos:exactMatch\tSCTID:1\tsemapv:ManualMappingCuration\thigh\n"
    )
    with pytest.raises(ConfigurationError, match=r"site\.sssom\.tsv:6: .*confidence"):
        load_ontology(Settings(data_dir=tmp_path / "var", ontology_mapping_tables=[table]))
    missing = tmp_path / "nowhere.owl"
    with pytest.raises(ConfigurationError, match=r"nowhere\.owl"):
        load_ontology(Settings(data_dir=tmp_path / "var", ontology_files=[missing]))
