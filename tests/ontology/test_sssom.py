"""SSSOM tables in (sssom library; errors name file and line), and the node's mappings out."""

from __future__ import annotations

from pathlib import Path

import pytest

from ontology import Ontology, OntologyError, vocab
from ontology.sssom_io import quiet_sssom, read_table

HEADER = """\
# curie_map:
#   SCTID: http://snomed.info/id/
#   ICD10WHO: https://icd.who.int/browse10/2019/en#/
#   site: https://example.org/site/
# mapping_set_id: https://example.org/site.sssom.tsv
# license: https://creativecommons.org/publicdomain/zero/1.0/
subject_id\tsubject_label\tpredicate_id\tobject_id\tmapping_justification\tconfidence
"""
ROWS = [
    "site:kh\tKopf-Hals MRT\tskos:exactMatch\tSCTID:774007\tsemapv:ManualMappingCuration\t0.9",
    "site:rrms\tRRMS\tskos:narrowMatch\tICD10WHO:G35\tsemapv:ManualMappingCuration\t",
    "site:neg\tnot it\tskos:relatedMatch\tSCTID:12738006\tsemapv:ManualMappingCuration\t0.5",
]


def _table(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "site.sssom.tsv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def with_table(tmp_path_factory: pytest.TempPathFactory) -> Ontology:
    return Ontology.load(mapping_tables=[_table(tmp_path_factory.mktemp("t"), ROWS)])


def test_table_rows_map_values(with_table: Ontology) -> None:
    m = with_table.map("body_part", "KOPF-HALS mrt")
    assert (m.curie, m.method, m.confidence) == ("SCTID:774007", "mapping-table", 0.9)
    assert m.source.endswith("site.sssom.tsv:8")
    assert m.justification == "semapv:ManualMappingCuration"
    by_id = with_table.map("diagnosis", "site:rrms")
    assert (by_id.curie, by_id.predicate, by_id.confidence) == (
        "ICD10WHO:G35",
        "skos:narrowMatch",
        0.7,
    )
    # a related match is not a mapping; the table row does not apply to another field either
    assert with_table.map("body_part", "not it").method == "unmapped"
    assert with_table.map("diagnosis", "Kopf-Hals MRT").method == "unmapped"


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        (
            ["site:a\tA\tskos:exactMatch\tnope:1\tsemapv:ManualMappingCuration\t0.9"],
            8,
            "undeclared prefix",
        ),
        (
            [ROWS[0], "site:a\tA\tskos:exactMatch\tSCTID:1\tsemapv:ManualMappingCuration\thigh"],
            9,
            "confidence",
        ),
        (
            [
                ROWS[0],
                ROWS[1],
                "site:a\tA\tskos:exactMatch\tSCTID:1\tsemapv:ManualMappingCuration\t1.5",
            ],
            10,
            "confidence",
        ),
        (["site:a\tA\tskos:exactMatch\tSCTID:1\tManual\t0.9"], 8, "semapv"),
        (["site:a\tA\t\tSCTID:1\tsemapv:ManualMappingCuration\t0.9"], 8, "missing predicate_id"),
        (["\t\tskos:exactMatch\tSCTID:1\tsemapv:ManualMappingCuration\t0.9"], 8, "subject"),
    ],
)
def test_broken_rows_name_file_and_line(
    tmp_path: Path, rows: list[str], line: int, reason: str
) -> None:
    path = _table(tmp_path, rows)
    with pytest.raises(OntologyError, match=reason) as caught:
        read_table(path)
    assert (caught.value.path, caught.value.line) == (path, line)


def test_broken_metadata_header_names_its_line(tmp_path: Path) -> None:
    header = HEADER.replace("#   site: https://example.org/site/", "#  site: [unclosed")
    path = _table(tmp_path, ROWS[:1], header)
    with pytest.raises(OntologyError, match="metadata header") as caught:
        read_table(path)
    assert caught.value.path == path
    assert caught.value.line in (3, 4)


def test_export_round_trips_through_sssom(with_table: Ontology, tmp_path: Path) -> None:
    mappings = [
        with_table.map("body_part", "Kopf"),
        with_table.map("body_part", "BRAIN"),
        with_table.map("body_part", "Kopf-Hals MRT"),
        with_table.map("diagnosis", "MS"),
        with_table.map("body_part", "no such part"),
        with_table.map("body_part", "Kopf"),  # duplicates are written once
    ]
    out = tmp_path / "node.sssom.tsv"
    with_table.export_sssom(mappings, out, mapping_date="2026-01-01")
    text = out.read_text(encoding="utf-8")
    assert "#   SCTID: http://snomed.info/id/" in text
    assert "ICD10CM" not in text.split("subject_id")[0]  # only prefixes in use
    with quiet_sssom():
        from sssom.parsers import parse_sssom_table

        msdf = parse_sssom_table(out)
    rows = msdf.df.sort_values("subject_label").to_dict("records")
    assert [r["subject_label"] for r in rows] == ["BRAIN", "Kopf", "Kopf-Hals MRT", "MS"]
    justification = {r["subject_label"]: r["mapping_justification"] for r in rows}
    assert justification == {
        "BRAIN": "semapv:LexicalMatching",
        "Kopf": "semapv:LexicalMatching",
        "Kopf-Hals MRT": "semapv:ManualMappingCuration",
        "MS": "semapv:BackgroundKnowledgeBasedMatching",
    }
    assert "# mapping_date: '2026-01-01'" in text
    # the export reads back as a mapping table: a node can hand its mappings to another
    again = Ontology.load(mapping_tables=[out]).map("body_part", "Kopf")
    assert (again.iri, again.method) == (vocab.SNOMED + "69536005", "mapping-table")


def test_export_can_list_unmapped_values(with_table: Ontology, tmp_path: Path) -> None:
    out = tmp_path / "queue.sssom.tsv"
    with_table.export_sssom(
        [with_table.map("body_part", "no such part")], out, include_unmapped=True
    )
    assert "sssom:NoTermFound" in out.read_text(encoding="utf-8")
    assert read_table(out) == []
