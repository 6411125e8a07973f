"""No patient identifier from the PHI corpus reaches the store, the logs, the CLI or the API.

The corpus puts a distinctive value into every attribute the de-identification profile lists, into
nested sequences, private tags and allow-listed free text. It is harvested by the real command,
with debug logging, into SQLite and PostgreSQL; then every byte we can observe is searched.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from api.app import create_app
from catalogue.settings import Settings
from catalogue.store import Store
from tests.api.test_cli import run
from tests.harvesters.phi_corpus import write_phi_corpus

pytestmark = pytest.mark.anyio

API_QUERIES = [
    "{ sites { edges { node { slug name iri collections { edges { node { title description iri "
    "accessUrl siteSlug counts { subjects { value } studies { value } series { value } } } } } "
    "} } } }",
    "{ collections(first: 10) { edges { node { subjects(first: 50) { edges { node { iri sex "
    "birthYear group studies(first: 10) { edges { node { iri description year ageYears "
    "accessUrl } } } } } } } } } }",
]


def _leaks(text: str, phi: list[str]) -> list[str]:
    lowered = text.lower()
    return [value for value in phi if value.lower() in lowered]


def _dump_tables(store: Store) -> str:
    metadata = sa.MetaData()
    with store.engine.connect() as conn:
        metadata.reflect(conn)
        rows = {
            name: [list(map(str, row)) for row in conn.execute(sa.select(table))]
            for name, table in metadata.tables.items()
        }
    return json.dumps(rows)


async def test_no_phi_anywhere(tmp_path: Path, store_url: str) -> None:
    phi = write_phi_corpus(tmp_path / "export")
    corpus = b"".join(p.read_bytes() for p in (tmp_path / "export").iterdir())
    assert len(_leaks(corpus.decode("latin-1"), phi)) > 100  # the detector finds them raw
    data = tmp_path / "var"
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"sources:\n  - name: corpus\n    kind: dicom-folder\n"
        f"    path: {tmp_path / 'export'}\n    collection: PHI corpus\n"
        f"    workers: 2\n"
    )
    env = {
        "CATALOGUE_DATABASE_URL": store_url,
        "CATALOGUE_LOG_LEVEL": "DEBUG",
        "CATALOGUE_PSEUDONYM_SECRET": "a-secret-for-the-phi-corpus-test",
    }
    harvest = run("--data-dir", str(data), "--sources", str(sources), "harvest", "corpus", env=env)
    assert "succeeded" in harvest.stdout or "partial" in harvest.stdout, harvest.stderr
    again = run(
        "--data-dir", str(data), "--sources", str(sources), "harvest", "corpus", "--full", env=env
    )
    observed = [harvest.stdout, harvest.stderr, again.stdout, again.stderr]

    store = Store(store_url, "http://node.test")
    try:
        dump = _dump_tables(store)
        assert '"series"' in dump
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM series")).scalar_one() > 0
        observed.append(dump)
        settings = Settings(data_dir=data, base_url="http://node.test")  # type: ignore[arg-type]
        app = create_app(settings, store)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
            for query in API_QUERIES:
                response = await http.post("/graphql", json={"query": query})
                assert "errors" not in response.json(), response.text
                observed.append(response.text)
            observed.append((await http.get("/health")).text)
    finally:
        store.dispose()
    for path in data.rglob("*"):  # the SQLite database and its WAL, logs, keys
        if path.is_file():
            observed.append(path.read_bytes().decode("latin-1"))

    assert _leaks("\n".join(observed), phi) == []
