"""No identifier from an XNAT site reaches the store, the logs, the CLI or the API.

The contract server serves the recorded site (subject and session labels that are hospital-style
numbers; experiment documents with `dcmPatientName`, `dcmPatientId`, `dcmPatientBirthDate`) and a
generated one (labels `MRN...`, dates of birth). It is harvested by the real command, with debug
logging; then every byte we can observe is searched, as for the
DICOM corpus in `test_phi_end_to_end.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from api.app import create_app
from api.demo.xnat_server import USERS, XnatServer
from api.demo.xnat_site import GeneratedSite, Sites
from catalogue.settings import Settings
from catalogue.store import Store
from tests.api.test_cli import run
from tests.harvesters.test_phi_end_to_end import API_QUERIES, _dump_tables, _leaks
from tests.harvesters.xnat_site import PHI, recorded_site

pytestmark = pytest.mark.anyio


def _identifiers(site: GeneratedSite) -> list[str]:
    found = list(PHI)
    for project in site.projects():
        for subject in site.subjects(project["ID"]) or []:
            found.append(subject["label"])
            if subject["dob"]:
                found.append(subject["dob"])
        found += [e["label"] for e in site.experiments(project["ID"]) or []]
    return found


async def test_no_xnat_identifier_anywhere(tmp_path: Path, store_url: str) -> None:
    generated = GeneratedSite(n_projects=2, n_sessions=12, n_scans=48)
    phi = _identifiers(generated)
    site = Sites((recorded_site(hostile=True), generated))
    served = [json.dumps(site.subjects(p["ID"])) for p in site.projects()]
    served += [json.dumps(site.experiments(p["ID"])) for p in site.projects()]
    served += [(site.document(e) or b"").decode() for e in ("NRG_E05", "NRG_E06")]
    assert len(_leaks("\n".join(served), phi)) == len(phi)  # the detector finds them all raw
    server = XnatServer(site)
    data = tmp_path / "var"
    sources = tmp_path / "sources.yaml"
    env = {
        "CATALOGUE_DATABASE_URL": store_url,
        "CATALOGUE_LOG_LEVEL": "DEBUG",
        "CATALOGUE_PSEUDONYM_SECRET": "a-secret-for-the-xnat-phi-test",
    }
    with server.running():
        sources.write_text(
            f"sources:\n  - name: xnat\n    kind: xnat\n    url: {server.url}\n"
            f"    username: harvester\n    password: {USERS['harvester']}\n"
            "    retry_wait_s: 0\n"
        )
        common = ("--data-dir", str(data), "--sources", str(sources), "harvest", "xnat")
        harvest = run(*common, env=env)
    assert "partial" in harvest.stdout, harvest.stderr  # (the hostile documents are reported)
    observed = [harvest.stdout, harvest.stderr]
    observed.append(await _observe(store_url, data))
    for path in data.rglob("*"):  # the SQLite database and its WAL, logs, keys
        if path.is_file():
            observed.append(path.read_bytes().decode("latin-1"))
    assert _leaks("\n".join(observed), phi) == []


async def _observe(store_url: str, data: Path) -> str:
    """The tables, and the API's answers."""
    store = Store(store_url, "http://node.test")
    observed = []
    try:
        dump = _dump_tables(store)
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM series")).scalar_one() > 48
        observed.append(dump)
        settings = Settings(data_dir=data, base_url="http://node.test")  # type: ignore[arg-type]
        transport = httpx.ASGITransport(app=create_app(settings, store))
        async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
            for query in API_QUERIES:
                response = await http.post("/graphql", json={"query": query})
                errors = response.json().get("errors", [])  # protected projects: counts only
                assert {e["extensions"]["code"] for e in errors} <= {"FORBIDDEN"}, response.text
                observed.append(response.text)
    finally:
        store.dispose()
    return json.dumps(observed)
