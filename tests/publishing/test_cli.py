"""`catalogue datasets ...` as an admin runs it: the installed command against a node's data
directory, DOIs on the DataCite contract server."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from catalogue.store import Store
from tests.api.test_cli import run
from tests.publishing.conftest import PASSWORD, PREFIX, REPOSITORY, seed
from tests.publishing.datacite_server import DataCiteContract

COHORT = {
    "filter": {"op": "has_series", "where": {"op": "term", "field": "modality", "value": "MR"}}
}
METADATA = """
creators:
  - name: "Imaging Consortium"
    organisation: true
license: CC-BY-4.0
keywords: [neuroimaging]
"""


def test_create_reserve_publish_and_version_from_the_command_line(
    tmp_path: Path, contract: DataCiteContract, datacite_url: str
) -> None:
    data = tmp_path / "var"
    store = Store(f"sqlite:///{data / 'catalogue.db'}", "http://127.0.0.1:8000")
    store.upgrade()
    seed(store)
    store.dispose()
    (tmp_path / "cohort.json").write_text(json.dumps(COHORT))
    (tmp_path / "meta.yaml").write_text(METADATA)
    env = {
        "CATALOGUE_DOI_PROVIDER": "datacite", "CATALOGUE_DATACITE_URL": datacite_url,
        "CATALOGUE_DATACITE_REPOSITORY_ID": REPOSITORY, "CATALOGUE_DATACITE_PASSWORD": PASSWORD,
        "CATALOGUE_DOI_PREFIX": PREFIX,
    }  # fmt: skip

    def datasets(*args: str) -> str:
        result = run("--data-dir", str(data), "datasets", *args, env=env)
        assert result.returncode == 0, result.stderr + result.stdout
        assert PASSWORD not in result.stdout + result.stderr
        return result.stdout

    created = datasets(
        "create", "brain-mr", "--title", "Brain MR", "--query", str(tmp_path / "cohort.json"),
        "--metadata", str(tmp_path / "meta.yaml"),
    )  # fmt: skip
    assert "counted subjects by site: north: 3, south: 7" in created
    shown = json.loads(datasets("publish", "brain-mr", "--json"))
    concept = shown["concept_doi"]
    assert shown["state"] == "findable" and contract.dois[concept]["state"] == "findable"
    datasets("new-version", "brain-mr")
    final = json.loads(datasets("publish", concept, "--json"))
    assert [v["state"] for v in final["versions"]] == ["findable", "findable"]
    assert contract.dois[f"{concept}.v2"]["state"] == "findable"
    rows = list(csv.DictReader(io.StringIO(datasets("manifest", "brain-mr"))))
    assert len(rows) == 24 and rows[0]["access_url"].startswith("https://")

    failing = run(
        "--data-dir", str(data), "datasets", "hide", "brain-mr", "--version", "9", env=env
    )
    assert failing.returncode == 2 and "nothing findable" in failing.stderr
