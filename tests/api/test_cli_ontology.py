"""`catalogue curation`, `catalogue ontology export-sssom` and `catalogue terms`, run as a user
runs them (the console script in a subprocess) against a node holding a harvested catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalogue.services.coding import CodingService
from catalogue.store import Store
from ontology import Ontology
from tests.api.test_cli import run
from tests.catalogue.coded_catalogue import harvest


@pytest.fixture
def data_dir(tmp_path: Path, ontology: Ontology) -> Path:
    data = tmp_path / "var"
    store = Store(f"sqlite:///{data / 'catalogue.db'}", "http://127.0.0.1:8000")
    store.upgrade()
    harvest(store, CodingService(ontology))
    store.dispose()
    return data


def test_queue_override_and_export(data_dir: Path, tmp_path: Path) -> None:
    listed = run("--data-dir", str(data_dir), "curation", "list", "--field", "body_part", "--json")
    assert listed.returncode == 0, listed.stderr
    queue = json.loads(listed.stdout)
    assert [(e["value"], e["records"]) for e in queue] == [
        ("NACKENREGION", 2),
        ("Nackenregion", 1),
    ]
    decided = run(
        "--data-dir", str(data_dir), "curation", "override", "body_part", "NACKENREGION",
        "SCTID:45048000", "--note", "German for neck region",
    )  # fmt: skip
    assert decided.returncode == 0, decided.stderr
    assert "→ SCTID:45048000 Neck: 3 record(s) re-mapped" in decided.stdout
    out = tmp_path / "node.sssom.tsv"
    exported = run("--data-dir", str(data_dir), "ontology", "export-sssom", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = [line.split("\t") for line in out.read_text().splitlines() if not line.startswith("#")]
    header, body = rows[0], rows[1:]
    by_label = {r[header.index("subject_label")]: r for r in body}
    neck = by_label["NACKENREGION"]
    assert neck[header.index("object_id")] == "SCTID:45048000"
    assert neck[header.index("mapping_justification")] == "semapv:ManualMappingCuration"
    assert by_label["BRAIN"][header.index("object_id")] == "SCTID:12738006"


def test_terms_by_prefix_with_counts(data_dir: Path) -> None:
    found = run("--data-dir", str(data_dir), "terms", "brai", "--field", "body_part", "--counts")
    assert found.returncode == 0, found.stderr
    first = found.stdout.splitlines()[3]  # after the table's top border, header and rule
    assert "SCTID:12738006" in first and "Brain" in first and first.rstrip(" │").endswith("3")


def test_a_broken_ontology_file_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "site.ttl"
    bad.write_text("@prefix ex: <https://example.org/> .\nex:a ex:b .\n")
    result = run(
        "--data-dir",
        str(tmp_path / "var"),
        "terms",
        "brain",
        env={"CATALOGUE_ONTOLOGY_FILES": json.dumps([str(bad)])},
    )
    assert result.returncode == 2
    assert f"{bad}:" in result.stderr and "Turtle syntax error" in result.stderr
