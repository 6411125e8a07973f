"""The bundled vocabularies: what the generator writes, checked against the sources it reads."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from ontology import Ontology, vocab
from ontology._generate.__main__ import generate
from ontology._index import content_hash
from ontology._index import read as read_index
from ontology._load import BUNDLED, BUNDLED_INDEX, DATA, read_bytes
from ontology._rdf import read_rdf
from ontology.prefixes import CANONICAL

from .conftest import SHARED_DATA

ANATOMY = SHARED_DATA / "dicom-anatomy"


def _text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def test_regenerating_gives_the_committed_files(tmp_path: Path) -> None:
    written = generate(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == sorted(
        p.relative_to(DATA).as_posix()
        for p in [*(DATA / n for n in BUNDLED), *BUNDLED_INDEX.iterdir()]
    )
    for path in written:
        committed = DATA / path.relative_to(tmp_path)
        # .ttl files compare byte for byte; .gz by content (zlib builds may emit other bytes)
        assert _text(path) == _text(committed), (
            f"{committed} is stale: run python -m ontology._generate"
        )


@pytest.mark.parametrize("name", [n for n in BUNDLED if not n.endswith(".gz")])
def test_turtle_parses_to_the_index(name: str) -> None:
    """rdflib reads the committed Turtle to exactly the records the load index holds."""
    path = DATA / name
    data = read_bytes(path)
    indexed = read_index(BUNDLED_INDEX / f"{name}.index.json.gz", content_hash(data))
    assert indexed is not None, "index missing or stale"
    parsed = read_rdf(path, data)
    assert parsed.terms == indexed.terms
    assert parsed.schemes == indexed.schemes


@pytest.mark.parametrize("name", ["icd10who.ttl.gz", "icd10cm.ttl.gz"])
def test_icd_turtle_sample_parses_to_the_index(name: str, tmp_path: Path) -> None:
    """Parsing all of ICD-10-CM with rdflib takes a minute: check a random sample of blocks."""
    text = read_bytes(DATA / name).decode("utf-8")
    head, *blocks = text.split("\n\n")
    sample = random.Random(4).sample(blocks[1:], 200)
    part = tmp_path / "sample.ttl"
    part.write_text("\n\n".join([head, *sample]) + "\n", encoding="utf-8")
    parsed = {t.iri: t for t in read_rdf(part, part.read_bytes()).terms}
    indexed = read_index(BUNDLED_INDEX / f"{name}.index.json.gz", content_hash(text.encode()))
    assert indexed is not None
    by_iri = {t.iri: t for t in indexed.terms}
    assert len(parsed) == 200
    assert all(by_iri[iri] == term for iri, term in parsed.items())


def test_every_body_part_examined_term_maps_to_highdicoms_code(onto: Ontology) -> None:
    table = json.loads((ANATOMY / "highdicom_anatomic_regions.json").read_text())
    for term, (scheme, code, meaning, *_) in table.items():
        assert scheme == "SCT"
        mapping = onto.map("body_part", term)
        assert mapping.iri == vocab.SNOMED + code, term
        assert mapping.method == "exact-code"
        found = onto.term(mapping.iri)
        assert found is not None and meaning in (found.label, *found.synonyms)


def test_cid_4031_concepts_are_all_there(onto: Ontology) -> None:
    table = json.loads((ANATOMY / "pydicom_3.0.2_cid4031_CommonAnatomicRegion.json").read_text())
    for _keyword, (_, code, meaning) in table.items():
        term = onto.term(f"SCTID:{code}")
        assert term is not None, code
        assert meaning in (term.label, *term.synonyms)


def test_anatomy_reaches_the_whole_body(onto: Ontology) -> None:
    """The curated hierarchy leaves no concept stranded (the phantom is not anatomy)."""
    whole_body, phantom = vocab.SNOMED + "38266002", vocab.SNOMED + "706342009"
    anatomy = [t for t in onto.search("a", 10_000, field="body_part")]
    iris = {t.iri for t in anatomy} | set(onto.descendants(whole_body))
    for iri in iris - {whole_body, phantom}:
        assert whole_body in onto.ancestors(iri), iri


def test_modalities_are_cid_29_and_33() -> None:
    from pydicom.sr import _cid_dict

    text = (DATA / "dicom-modality.ttl").read_text()
    assert len(_cid_dict.cid_concepts[33]["DCM"]) == text.count(" a skos:Concept ;\n")


def test_canonical_prefixes_agree_with_bioregistry() -> None:
    import bioregistry

    # DCM is DICOM's own designator; bioregistry calls the resource "dicom"
    expected = {"SCTID": "snomedct", "DCM": "dicom", "NCBITaxon": "ncbitaxon"}
    expected |= {"ICD10CM": "icd10cm", "ICD10WHO": "icd10"}
    for prefix, resource in expected.items():
        assert bioregistry.normalize_prefix("dicom" if prefix == "DCM" else prefix) == resource
        known = bioregistry.get_resource(resource)
        assert known is not None
        uri_prefixes = known.get_uri_prefixes() | {known.get_uri_prefix()}
        assert CANONICAL[prefix] in uri_prefixes, prefix
