"""User ontologies in Turtle, RDF/XML, OBO and SKOS: loaded, searchable, usable in mappings;
broken files name the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ontology import DEFAULT_FIELDS, FieldSpec, Ontology, OntologyError

UBERON_TTL = """\
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix obo: <http://purl.obolibrary.org/obo/> .
@prefix oboInOwl: <http://www.geneontology.org/formats/oboInOwl#> .

<http://purl.obolibrary.org/obo/uberon.owl> a owl:Ontology ; owl:versionInfo "2024-01-01" .
obo:UBERON_0000033 a owl:Class ; rdfs:label "head"@en .
obo:UBERON_0000955 a owl:Class ; rdfs:label "brain"@en ;
    oboInOwl:hasExactSynonym "encephalon" ;
    rdfs:subClassOf [ a owl:Restriction ;
        owl:onProperty obo:BFO_0000050 ; owl:someValuesFrom obo:UBERON_0000033 ] .
obo:UBERON_0002037 a owl:Class ; rdfs:label "cerebellum"@en ;
    rdfs:subClassOf obo:UBERON_0000955 .
"""

SKOS_RDF_XML = """\
<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:skos="http://www.w3.org/2004/02/skos/core#">
  <skos:ConceptScheme rdf:about="https://example.org/dx/scheme"/>
  <skos:Concept rdf:about="https://example.org/dx/neuro">
    <skos:prefLabel xml:lang="en">Neurological disorder</skos:prefLabel>
    <skos:inScheme rdf:resource="https://example.org/dx/scheme"/>
  </skos:Concept>
  <skos:Concept rdf:about="https://example.org/dx/ms">
    <skos:prefLabel xml:lang="en">Demyelinating disease</skos:prefLabel>
    <skos:prefLabel xml:lang="de">Demyelinisierende Erkrankung</skos:prefLabel>
    <skos:notation>DX-7</skos:notation>
    <skos:broader rdf:resource="https://example.org/dx/neuro"/>
    <skos:inScheme rdf:resource="https://example.org/dx/scheme"/>
  </skos:Concept>
</rdf:RDF>
"""

OBO = """\
format-version: 1.2
ontology: mini
data-version: mini/2025-01-01

[Term]
id: MINI:0000001
name: whole organism

[Term]
id: MINI:0000002
name: forelimb
synonym: "front limb" EXACT []
relationship: part_of MINI:0000001

[Term]
id: MINI:0000003
name: paw
is_a: MINI:0000002

[Typedef]
id: part_of
name: part of
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Ontology:
    d = tmp_path_factory.mktemp("user")
    fields = {
        **DEFAULT_FIELDS,
        "body_part": FieldSpec(
            ("SCTID", "UBERON"),
            (*DEFAULT_FIELDS["body_part"].schemes, "http://purl.obolibrary.org/obo/uberon.owl"),
        ),
        "site_diagnosis": FieldSpec((), ("https://example.org/dx/scheme",)),
    }
    files = [
        _write(d, "uberon.ttl", UBERON_TTL),
        _write(d, "dx.rdf", SKOS_RDF_XML),
        _write(d, "mini.obo", OBO),
    ]
    return Ontology.load(files, fields=fields, bundled=False, cache_dir=d / "cache")


def test_owl_turtle_terms_and_part_of_restrictions(user: Ontology) -> None:
    brain = user.term("UBERON:0000955")
    assert brain is not None and brain.label == "brain" and brain.scheme == "UBERON"
    assert "encephalon" in brain.synonyms
    assert brain.version == "2024-01-01"
    head = "http://purl.obolibrary.org/obo/UBERON_0000033"
    assert head in user.ancestors("http://purl.obolibrary.org/obo/UBERON_0002037")
    assert user.map("body_part", "Encephalon").iri == brain.iri


def test_skos_rdf_xml_with_languages_and_notations(user: Ontology) -> None:
    mapping = user.map("site_diagnosis", "Demyelinisierende Erkrankung")
    assert mapping.iri == "https://example.org/dx/ms"
    assert mapping.method == "label"
    assert user.map("site_diagnosis", "dx-7").method == "exact-code"
    assert "https://example.org/dx/neuro" in mapping.closure


def test_obo_with_pronto(user: Ontology) -> None:
    paw = user.term("http://purl.obolibrary.org/obo/MINI_0000003")
    assert paw is not None and paw.label == "paw"
    forelimb = user.term("MINI:0000002")
    assert forelimb is not None and forelimb.synonyms == ("front limb",)
    assert user.ancestors(paw.iri) == (forelimb.iri, "http://purl.obolibrary.org/obo/MINI_0000001")
    assert [t.label for t in user.search("front", 5)] == ["forelimb"]


def test_cache_is_used_on_the_next_load(tmp_path: Path) -> None:
    path = _write(tmp_path, "uberon.ttl", UBERON_TTL)
    first = Ontology.load([path], bundled=False, cache_dir=tmp_path / "c")
    assert len(list((tmp_path / "c").iterdir())) == 1
    second = Ontology.load([path], bundled=False, cache_dir=tmp_path / "c")
    assert second.term("UBERON:0000955") == first.term("UBERON:0000955")
    path.write_text(UBERON_TTL.replace('"brain"@en', '"Brain"@en'), encoding="utf-8")
    third = Ontology.load([path], bundled=False, cache_dir=tmp_path / "c")
    changed = third.term("UBERON:0000955")
    assert changed is not None and changed.label == "Brain"


def test_cycles_do_not_hang(tmp_path: Path) -> None:
    text = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/c/> .
ex:a a skos:Concept ; skos:prefLabel "A" ; skos:broader ex:b .
ex:b a skos:Concept ; skos:prefLabel "B" ; skos:broader ex:c .
ex:c a skos:Concept ; skos:prefLabel "C" ; skos:broader ex:a , ex:d .
ex:d a skos:Concept ; skos:prefLabel "D" ; skos:broader ex:d .
"""
    onto = Ontology.load([_write(tmp_path, "cycle.ttl", text)], bundled=False)
    ex = "https://example.org/c/"
    assert onto.closure(ex + "a") == (ex + "a", ex + "b", ex + "c", ex + "d")
    assert set(onto.closure(ex + "c")) == {ex + "a", ex + "b", ex + "c", ex + "d"}
    assert set(onto.descendants(ex + "a")) == {ex + "b", ex + "c"}
    assert onto.ancestors(ex + "d") == ()


@pytest.mark.parametrize(
    ("name", "text", "line", "says"),
    [
        (
            "bad.ttl",
            '@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nex:d ex:e "open .\n',
            3,
            "Turtle",
        ),
        ("bad.ttl", "@prefix ex: <http://e/> .\n\nex:a ex:b undeclared:c .\n", 3, "Turtle"),
        ("bad.owl", SKOS_RDF_XML.replace("</skos:prefLabel>", "</skos:prefLabl>", 1), 6, "XML"),
        ("bad.obo", OBO.replace("is_a: MINI:0000002", "is_a MINI:0000002"), 18, "OBO"),
        ("bad.jsonld", '{\n  "@id": "x",\n  oops\n}', 3, "JSON"),
    ],
)
def test_broken_files_name_file_and_line(
    tmp_path: Path, name: str, text: str, line: int, says: str
) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(OntologyError) as caught:
        Ontology.load([path], bundled=False)
    assert (caught.value.path, caught.value.line) == (path, line)
    assert str(caught.value).startswith(f"{path}:{line}: {says}")


def test_missing_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(OntologyError, match="cannot read") as caught:
        Ontology.load([tmp_path / "absent.ttl"], bundled=False)
    assert caught.value.line is None
    with pytest.raises(OntologyError, match="unknown ontology format"):
        Ontology.load([_write(tmp_path, "x.csv", "a,b\n")], bundled=False)
