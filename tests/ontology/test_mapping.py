"""Field mappers: exact codes, labels in several languages, rules, curator decisions, cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ontology import DEFAULT_FIELDS, METHODS, Ontology, OntologyError, vocab
from ontology.rules import load_rules

SCT = vocab.SNOMED


@pytest.mark.parametrize(
    ("field", "value", "curie", "method"),
    [
        ("modality", "MR", "DCM:MR", "exact-code"),
        ("modality", " mr ", "DCM:MR", "exact-code"),
        ("modality", "MRI", "DCM:MR", "label"),
        ("modality", "IRM", "DCM:MR", "label"),
        ("modality", "Computed Tomography", "DCM:CT", "label"),
        ("body_part", "BRAIN", "SCTID:12738006", "exact-code"),
        ("body_part", "Head", "SCTID:69536005", "exact-code"),
        ("body_part", "Kopf", "SCTID:69536005", "label"),
        ("body_part", "tête", "SCTID:69536005", "label"),
        ("body_part", "SCHÄDEL", "SCTID:89546000", "label"),
        ("body_part", "lumbar spine", "SCTID:122496007", "label"),
        ("body_part", "LWS", "SCTID:122496007", "label"),
        ("body_part", "SCT:12738006", "SCTID:12738006", "exact-code"),
        ("diagnosis", "G35", "ICD10WHO:G35", "exact-code"),
        ("diagnosis", "ICD10CM:G35.A", "ICD10CM:G35.A", "exact-code"),
        ("diagnosis", "g35a", "ICD10CM:G35.A", "exact-code"),
        ("diagnosis", "Multiple sclerosis", "ICD10WHO:G35", "label"),
        ("diagnosis", "MS", "ICD10WHO:G35", "rule"),
        ("diagnosis", "Multiple sclerosis, relapsing", "ICD10WHO:G35", "rule"),
        ("species", "mouse", "NCBITaxon:10090", "label"),
        ("species", "Homo sapiens", "NCBITaxon:9606", "label"),
        ("species", "9606", "NCBITaxon:9606", "exact-code"),
        ("species", "C57BL/6J", "NCBITaxon:10090", "rule"),
        ("sequence_type", "FLAIR", "MRSEQ:FLAIR", "exact-code"),
        ("sequence_type", "T2*-weighted", "MRSEQ:T2starw", "label"),
        ("contrast", "post-contrast", "CONTRAST:post", "label"),
    ],
)
def test_maps(onto: Ontology, field: str, value: str, curie: str, method: str) -> None:
    mapping = onto.map(field, value)
    assert (mapping.curie, mapping.method) == (curie, method)
    assert mapping.value == value and mapping.field == field
    assert 0 < mapping.confidence <= 1
    assert mapping.closure[0] == mapping.iri
    assert mapping.method in METHODS


def test_result_carries_concept_and_closure(onto: Ontology) -> None:
    m = onto.map("body_part", "Gehirn")
    assert (m.iri, m.scheme, m.code, m.label) == (SCT + "12738006", "SCTID", "12738006", "Brain")
    assert SCT + "69536005" in m.closure  # a filter on head finds this brain series
    assert m.justification == "semapv:LexicalMatching"


def test_unmapped_values(onto: Ontology) -> None:
    for value in ("", "   ", "zzz unknown part", "MR"):
        m = onto.map("body_part", value)
        assert (m.method, m.iri, m.confidence, m.closure) == ("unmapped", None, 0.0, ())


def test_fields_accept_only_their_vocabularies(onto: Ontology) -> None:
    assert onto.map("modality", "Brain").method == "unmapped"
    assert onto.map("diagnosis", "Brain").method == "unmapped"
    # an explicit code of another system is not taken either
    assert onto.map("modality", "SCTID:12738006").method == "unmapped"


def test_explicit_code_outside_the_bundle_is_kept_less_surely(onto: Ontology) -> None:
    m = onto.map("diagnosis", "SCTID:24700007")  # SNOMED CT multiple sclerosis: not bundled
    assert (m.iri, m.method, m.confidence, m.label) == (SCT + "24700007", "exact-code", 0.9, None)


def test_icd_extension_code_maps_to_its_nearest_ancestor(onto: Ontology) -> None:
    m = onto.map("diagnosis", "G35.0")  # ICD-10-GM "Erstmanifestation einer MS"
    assert (m.curie, m.method, m.predicate, m.confidence) == (
        "ICD10WHO:G35", "exact-code", "skos:broadMatch", 0.8,
    )  # fmt: skip


def test_qualified_label_maps_to_its_head(onto: Ontology) -> None:
    m = onto.map("body_part", "Knee, left (weight bearing)")
    assert (m.curie, m.method, m.predicate, m.confidence) == (
        "SCTID:72696002", "label", "skos:broadMatch", 0.6,
    )  # fmt: skip


def test_rules_read_context_fields(onto: Ontology) -> None:
    m = onto.map("body_part", "OTHER", series_description="t2_tse_sag_LWS")
    assert (m.curie, m.method, m.source) == ("SCTID:122496007", "rule", "rule lumbar-spine")
    assert onto.map("body_part", "OTHER").method == "unmapped"
    m = onto.map("body_part", "", study_description="MRT Schädel nativ")
    assert m.curie == "SCTID:69536005"


def test_sequence_type_is_left_to_the_classifier(onto: Ontology) -> None:
    m = onto.map("sequence_type", "t1_mprage_sag_p2", tr=2300.0, te=2.98, ti=900.0)
    assert (m.curie, m.method) == ("MRSEQ:T1w", "rule")
    assert m.source.startswith("ontology.classify")
    dwi = onto.map("sequence_type", "ep2d_diff_mddw_20_p2_ADC")
    assert dwi.curie == "MRSEQ:ADC"
    assert vocab.SEQUENCE + "diffusion" in dwi.closure


def test_curator_decisions_win_and_reset_the_cache(tmp_path: Path) -> None:
    onto = Ontology.load()
    assert onto.map("body_part", "Hirnschale").method == "unmapped"
    onto.set_curator_decisions(
        {("body_part", "Hirnschale"): SCT + "89546000", ("body_part", "MR"): None}
    )
    m = onto.map("body_part", "HIRNSCHALE")  # the decision covers spelling variants
    assert (m.curie, m.method, m.confidence, m.justification) == (
        "SCTID:89546000", "curator", 1.0, "semapv:ManualMappingCuration",
    )  # fmt: skip
    refused = onto.map("body_part", "MR")
    assert (refused.method, refused.iri) == ("curator", None)
    assert onto.map("body_part", "Brain").method == "exact-code"


def test_cache_returns_the_same_result(onto: Ontology) -> None:
    first = onto.map("body_part", "Kopf")
    assert onto.map("body_part", "Kopf") is first
    assert onto.map_many("body_part", ["Kopf", "Kopf", "BRAIN"])[1] is first
    with_context = onto.map("body_part", "Kopf", series_description="x", image_type=["A", "B"])
    assert with_context == first


def test_unknown_field(onto: Ontology) -> None:
    with pytest.raises(ValueError, match="unknown field"):
        onto.map("colour", "red")


def _known(curie: str) -> str | None:
    return vocab.ICD10WHO + curie.split(":")[1] if curie.startswith("ICD10WHO:") else None


def _rules(tmp_path: Path, rules: list[dict[str, object]]) -> Path:
    path = tmp_path / "rules.json"
    lines = ['{"rules": ['] + [json.dumps(r) + "," for r in rules]
    path.write_text("\n".join(lines).rstrip(",") + "\n]}\n", encoding="utf-8")
    return path


def test_user_rules_are_ordered_and_used(tmp_path: Path) -> None:
    rules = [
        {
            "id": "first",
            "field": "diagnosis",
            "when": {"value": "^ppms$"},
            "concept": "ICD10CM:G35.C",
        },
        {"id": "second", "field": "diagnosis", "when": {"value": "ms$"}, "concept": "ICD10WHO:G36"},
    ]
    onto = Ontology.load(rules=[_rules(tmp_path, rules)])
    assert onto.map("diagnosis", "PPMS").curie == "ICD10CM:G35.C"
    assert onto.map("diagnosis", "xms").source == "rule second"


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        (
            {"id": "r", "field": "diagnosis", "when": {"value": "("}, "concept": "G35"},
            "unknown concept",
        ),
        (
            {"id": "r", "field": "diagnosis", "when": {"value": "("}, "concept": "ICD10WHO:G35"},
            "bad pattern",
        ),
        ({"id": "r", "field": "diagnosis", "when": {}, "concept": "ICD10WHO:G35"}, "non-empty"),
        (
            {
                "id": "r",
                "field": "diagnosis",
                "when": {"v": "a"},
                "concept": "ICD10WHO:G35",
                "confidence": 2,
            },
            "confidence",
        ),
        (
            {"id": "r", "field": "colour", "when": {"v": "a"}, "concept": "ICD10WHO:G35"},
            "unknown field",
        ),
    ],
)
def test_broken_rules_name_file_and_line(
    tmp_path: Path, rule: dict[str, object], reason: str
) -> None:
    good = {"id": "ok", "field": "diagnosis", "when": {"value": "a"}, "concept": "ICD10WHO:G35"}
    path = _rules(tmp_path, [good, rule])
    with pytest.raises(OntologyError, match=reason) as caught:
        load_rules(path, _known, DEFAULT_FIELDS)
    assert (caught.value.path, caught.value.line) == (path, 3)


def test_rules_json_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text('{"rules": [\n  {"id": "a",}\n]}\n', encoding="utf-8")
    with pytest.raises(OntologyError) as caught:
        load_rules(path, _known, DEFAULT_FIELDS)
    assert (caught.value.path, caught.value.line) == (path, 2)
