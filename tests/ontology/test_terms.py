"""Term look-up, hierarchy, closure and autocomplete over the bundled vocabularies."""

from __future__ import annotations

import pytest

from ontology import Ontology, vocab

SCT = vocab.SNOMED
HEAD, BRAIN, SKULL = SCT + "69536005", SCT + "12738006", SCT + "89546000"
CHEST, LUNG, HEART = SCT + "816094009", SCT + "39607008", SCT + "80891009"
SPINE, LSPINE, CSPINE = SCT + "421060004", SCT + "122496007", SCT + "122494005"
ABDOMEN, LIVER, KIDNEY = SCT + "818981001", SCT + "10200004", SCT + "64033007"
PELVIS, PROSTATE, WHOLE_BODY = SCT + "816092008", SCT + "41216001", SCT + "38266002"
KNEE, LOWER_LIMB = SCT + "72696002", SCT + "61685007"


@pytest.mark.parametrize(
    ("ancestor", "descendant"),
    [
        (HEAD, BRAIN),
        (HEAD, SKULL),
        (CHEST, LUNG),
        (CHEST, HEART),
        (SPINE, LSPINE),
        (SPINE, CSPINE),
        (ABDOMEN, LIVER),
        (ABDOMEN, KIDNEY),
        (PELVIS, PROSTATE),
        (LOWER_LIMB, KNEE),
        (WHOLE_BODY, BRAIN),
    ],
)
def test_anatomy_hierarchy(onto: Ontology, ancestor: str, descendant: str) -> None:
    assert ancestor in onto.ancestors(descendant)
    assert descendant in onto.descendants(ancestor)
    assert descendant not in onto.ancestors(ancestor)


def test_closure_is_self_then_ancestors_nearest_first(onto: Ontology) -> None:
    closure = onto.closure(BRAIN)
    assert closure[0] == BRAIN
    assert closure.index(HEAD) < closure.index(WHOLE_BODY)
    assert onto.ancestors(BRAIN) == closure[1:]
    assert onto.closure(BRAIN) is closure  # computed once


def test_icd_hierarchy_chapter_block_category(onto: Ontology) -> None:
    ancestors = onto.ancestors(vocab.ICD10CM + "G35.A")
    assert ancestors == (
        vocab.ICD10CM + "G35",
        vocab.ICD10CM + "G35-G37",
        vocab.ICD10CM + "G00-G99",
    )
    assert onto.ancestors(vocab.ICD10WHO + "G35") == (
        vocab.ICD10WHO + "G35-G37",
        vocab.ICD10WHO + "VI",
    )


def test_species_lineage(onto: Ontology) -> None:
    mouse = onto.term("NCBITaxon:10090")
    assert mouse is not None and mouse.label == "Mus musculus"
    assert vocab.NCBITAXON + "9989" in onto.ancestors(mouse.iri)  # Rodentia
    assert vocab.NCBITAXON + "40674" in onto.ancestors(vocab.NCBITAXON + "9606")  # Mammalia


def test_sequence_groups(onto: Ontology) -> None:
    assert vocab.SEQUENCE + "anatomical" in onto.ancestors(vocab.SEQUENCE + "FLAIR")
    assert vocab.SEQUENCE + "diffusion" in onto.ancestors(vocab.SEQUENCE + "ADC")
    assert vocab.SEQUENCE + "derived" in onto.ancestors(vocab.SEQUENCE + "T1map")
    assert onto.term(vocab.POST_CONTRAST) is not None


@pytest.mark.parametrize(
    "name",
    ["SCTID:12738006", "SCT:12738006", "snomedct:12738006", "http://snomed.info/id/12738006"],
)
def test_term_by_curie_alias_or_iri(onto: Ontology, name: str) -> None:
    term = onto.term(name)
    assert term is not None
    assert (term.iri, term.curie, term.scheme, term.code, term.label) == (
        BRAIN, "SCTID:12738006", "SCTID", "12738006", "Brain",
    )  # fmt: skip
    assert "Gehirn" in term.synonyms
    assert term.version


def test_term_codes_per_system(onto: Ontology) -> None:
    mr = onto.term("DCM:MR")
    assert mr is not None and mr.label == "Magnetic Resonance"
    cm = onto.term("ICD10CM:G35")
    assert cm is not None and cm.label == "Multiple sclerosis" and cm.scheme == "ICD10CM"
    assert onto.term("SCTID:1") is None
    assert onto.term("nonsense") is None


def test_search_ranks_exact_then_label_then_synonym(onto: Ontology) -> None:
    labels = [t.label for t in onto.search("brain", 5, field="body_part")]
    assert labels[0] == "Brain"
    assert len(labels) <= 5
    # "Kopf" is only a synonym of Head; it is still found
    assert next(t.label for t in onto.search("kop", 3, field="body_part")) == "Head"
    lung = onto.search("lun", 10, field="body_part")
    assert lung[0].label == "Lung"
    assert all(t.scheme == "SCTID" for t in lung)


def test_search_across_vocabularies_and_limits(onto: Ontology) -> None:
    found = onto.search("multiple scl", 3)
    assert found[0].label == "Multiple sclerosis"
    assert len(found) == 3
    assert onto.search("", 5) == []
    assert onto.search("zzzzqqq", 5) == []


def test_vocabularies_report_versions(onto: Ontology) -> None:
    titles = {s.iri.rsplit("/", 1)[-1]: s for s in onto.vocabularies}
    assert "2019" in titles["icd10who"].version
    assert "FY2026" in titles["icd10cm"].version
    assert titles["dicom-anatomy"].version.startswith("pydicom")
