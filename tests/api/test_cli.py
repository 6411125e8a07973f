"""The `catalogue` command, run as a user runs it: the installed console script, in a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from catalogue import __version__

CATALOGUE = shutil.which("catalogue", path=str(Path(sys.executable).parent)) or "catalogue"


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")}
    environment.update(env or {}, COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [CATALOGUE, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"catalogue {__version__}"


def test_doctor_says_what_to_fix_then_passes(tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    first = run("--data-dir", data, "doctor")
    assert first.returncode == 1
    assert "run `catalogue migrate`" in first.stdout
    assert run("--data-dir", data, "migrate").returncode == 0
    second = run("--data-dir", data, "doctor")
    assert second.returncode == 0, second.stdout
    assert "FAIL" not in second.stdout


def test_doctor_reports_an_unreachable_database_and_search_engine(tmp_path: Path) -> None:
    port = _free_port()
    result = run(
        "--data-dir",
        str(tmp_path),
        "doctor",
        env={
            "CATALOGUE_DATABASE_URL": f"postgresql://u:topsecret@127.0.0.1:{port}/nope",
            "CATALOGUE_SEARCH_BACKEND": "elasticsearch",
            "CATALOGUE_ELASTICSEARCH_URL": f"http://127.0.0.1:{port}",
        },
    )
    assert result.returncode == 1
    assert "start the database or correct CATALOGUE_DATABASE_URL" in result.stdout
    assert f"Elasticsearch 8 at http://127.0.0.1:{port}" in result.stdout
    assert "topsecret" not in result.stdout + result.stderr


@pytest.mark.postgres
@pytest.mark.elasticsearch
def test_doctor_on_postgres_and_elasticsearch(
    tmp_path: Path, postgres_database: str, elasticsearch_url: str
) -> None:
    env = {
        "CATALOGUE_DATABASE_URL": postgres_database,
        "CATALOGUE_SEARCH_BACKEND": "elasticsearch",
        "CATALOGUE_ELASTICSEARCH_URL": elasticsearch_url,
    }
    assert run("--data-dir", str(tmp_path), "migrate", env=env).returncode == 0
    result = run("--data-dir", str(tmp_path), "doctor", env=env)
    assert result.returncode == 0, result.stdout
    assert "postgresql+psycopg://catalogue:***@" in result.stdout
    assert "elasticsearch 8." in result.stdout


def test_sources_check_locates_mistakes(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: pacs\n    kind: no-such-kind\n")
    result = run("--sources", str(sources), "sources", "check")
    assert result.returncode == 1
    assert f"{sources}:3: sources[0].kind" in result.stdout
    assert "unknown harvester kind 'no-such-kind'" in result.stdout


def test_settings_errors_are_clear_and_exit_2(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path), "settings", env={"CATALOGUE_PORT": "eighty"})
    assert result.returncode == 2
    assert "CATALOGUE_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_harvest_needs_a_source(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path), "harvest")
    assert result.returncode == 2
    assert "name one source, or pass --all" in result.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [CATALOGUE, "--data-dir", str(tmp_path / "var"), "serve", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_answers_health_and_graphql_over_a_socket(served: str) -> None:
    health = httpx.get(f"{served}/health", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    graphql = httpx.post(
        f"{served}/graphql",
        timeout=10,
        json={"query": "{ node { version } sites { edges { node { slug } } } }"},
    )
    assert graphql.json() == {
        "data": {
            "node": {"version": __version__},
            "sites": {"edges": [{"node": {"slug": "local"}}]},
        }
    }
    page = httpx.get(served, timeout=10)
    assert page.status_code == 200
    assert "Imaging catalogue" in page.text


def test_harvest_indexes_and_index_commands_report_and_rebuild(tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    demo = run("--data-dir", data, "demo", "--no-serve", "--scale", "0.02", "--xnat-port", "0")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    status = run("--data-dir", data, "index", "status")
    assert status.returncode == 0, status.stderr
    row = next(line for line in status.stdout.splitlines() if "embedded" in line)
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[1] == "0"  # the harvest drained the outbox it filled
    assert "subjects" in cells[4] and "series" in cells[4]
    rebuilt = run("--data-dir", data, "index", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "rebuilt embedded:" in rebuilt.stdout
    assert run("--data-dir", data, "index", "drain").stdout.startswith("applied 0 change(s)")


def test_index_status_says_when_the_engine_is_down(tmp_path: Path) -> None:
    env = {
        "CATALOGUE_SEARCH_BACKEND": "elasticsearch",
        "CATALOGUE_ELASTICSEARCH_URL": f"http://127.0.0.1:{_free_port()}",
    }
    status = run("--data-dir", str(tmp_path / "var"), "index", "status", env=env)
    assert status.returncode == 1
    assert "search engine:" in status.stderr
    assert "Traceback" not in status.stderr
