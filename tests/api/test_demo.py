"""`catalogue demo --no-serve` at a small scale, run twice, then the node it set up, read through
its API: three sites, subjects from every kind of source, an aggregate-only site, a published
dataset with its landing page, and a second run that changes nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from catalogue.settings import Settings, load_settings
from tests.harvesters.orthanc import free_ports

CATALOGUE = str(Path(sys.executable).with_name("catalogue"))
SCALE = "0.03"  # about 70 people; the full demo has about 2,400
KINDS = {"dicom-folder", "bids", "xnat"}
pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Demo:
    data_dir: Path
    first: str
    second: str
    token: str
    dataset_path: str


def _demo(data_dir: Path, xnat_port: int) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")}
    environment.update(COLUMNS="200", NO_COLOR="1")
    done = subprocess.run(
        [
            CATALOGUE,
            "--data-dir",
            str(data_dir),
            "demo",
            "--no-serve",
            "--scale",
            SCALE,
            "--xnat-port",
            str(xnat_port),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    data_dir = tmp_path_factory.mktemp("demo") / "var"
    [port] = free_ports(1)  # the same both times: the XNAT's address is in its records
    first = _demo(data_dir, port)
    second = _demo(data_dir, port)
    token = next(line for line in second.splitlines() if line.startswith("eyJ"))
    found = re.search(r"http://127\.0\.0\.1:8000(/id/dataset/[0-9a-f-]+)", second)
    assert found, second
    return Demo(data_dir, first, second, token, found.group(1))


@pytest.fixture
async def http(demo: Demo) -> AsyncIterator[httpx.AsyncClient]:
    settings = _settings(demo.data_dir)
    app = create_app(settings, index_in_background=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client


def _settings(data_dir: Path) -> Settings:
    secret = (data_dir / "demo-token.key").read_text().strip()
    return load_settings(
        data_dir=data_dir,
        sources_file=data_dir / "demo" / "demo-sources.yaml",
        site_slug="north",
        auth_hs256_secret=SecretStr(secret),
    )


async def _graphql(
    http: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def _rows(output: str) -> dict[str, list[str]]:
    """The harvest table: source name -> its cells."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│") if c.strip()]
        if len(cells) == 9 and cells[0] != "source":
            rows[cells[0]] = cells
    return rows


def test_every_source_is_harvested_and_a_second_run_changes_nothing(demo: Demo) -> None:
    first, second = _rows(demo.first), _rows(demo.second)
    assert set(first) == set(second) and len(first) == 5
    for name, cells in first.items():
        assert cells[1] == "succeeded", (name, cells)
        assert int(cells[3]) > 0  # added
    for name, cells in second.items():
        status, _seen, added, updated = cells[1:5]
        assert (status, added, updated) == ("succeeded", "0", "0"), (name, cells)
    assert "published the demo dataset 10.5072/" in demo.first and "not registered" in demo.first
    assert "published the demo dataset" not in demo.second  # found, not made again
    assert demo.token in demo.second and "cohort builder: http://127.0.0.1:8000/" in demo.second


SOURCES = "{ sources { edges { node { name kind siteSlug lastRun { status added } } } } }"
SITES = """{ sites { edges { node { slug name collections { edges { node {
  title visibility counts { subjects { value suppressed } } } } } } } } }"""


async def test_three_sites_with_subjects_from_every_kind_of_source(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    sources = [e["node"] for e in (await _graphql(http, SOURCES, demo.token))["sources"]["edges"]]
    assert {s["siteSlug"] for s in sources} == {"north", "south", "east"}
    assert {s["kind"] for s in sources} == KINDS
    sites = (await _graphql(http, SITES, demo.token))["sites"]["edges"]
    assert {s["node"]["slug"] for s in sites} == {"north", "south", "east"}
    collections = {
        c["node"]["title"]: c["node"] for s in sites for c in s["node"]["collections"]["edges"]
    }
    # north's export, two BIDS datasets and three XNAT projects at south, east's archive
    assert len(collections) == 7
    assert all(c["counts"]["subjects"]["value"] > 0 for c in collections.values())
    aggregate = {t for t, c in collections.items() if c["visibility"] == "AGGREGATE"}
    assert aggregate == {"Regional imaging archive", "Epilepsy surgery work-up"}
    assert {c["visibility"] for c in collections.values()} == {"PUBLIC", "AGGREGATE"}


EAST = {"term": {"field": "site", "value": "east"}}
COHORT = """query($filter: FilterInput) { cohort(query: {filter: $filter, facets: [
  {terms: {field: "manufacturer"}}, {terms: {field: "sex"}}]}) {
  subjects { value suppressed } facets { buckets { value count { value suppressed } } } } }"""
SEARCH = """query($filter: FilterInput) {
  search(query: {kind: SUBJECTS, filter: $filter}) { totalCount } }"""


async def test_east_is_aggregate_only_for_anonymous_users(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    anonymous = (await _graphql(http, COHORT, filter=EAST))["cohort"]
    admin = (await _graphql(http, COHORT, demo.token, filter=EAST))["cohort"]
    assert admin["subjects"]["value"] > 0
    cells = [b["count"] for f in anonymous["facets"] for b in f["buckets"]]
    assert any(c["suppressed"] and c["value"] is None for c in cells)
    assert not any(b["count"]["suppressed"] for f in admin["facets"] for b in f["buckets"])
    # counts only: no record of east is found by an anonymous search, all of them by an admin's
    assert (await _graphql(http, SEARCH, filter=EAST))["search"]["totalCount"] == 0
    found = (await _graphql(http, SEARCH, demo.token, filter=EAST))["search"]["totalCount"]
    assert found == admin["subjects"]["value"]


async def test_the_published_dataset_has_a_landing_page(
    demo: Demo, http: httpx.AsyncClient
) -> None:
    page = await http.get(demo.dataset_path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Multiple sclerosis patients with a 3 T FLAIR" in page.text
    assert "10.5072/" in page.text
    datacite = await http.get(
        demo.dataset_path, headers={"Accept": "application/vnd.datacite.datacite+json"}
    )
    assert datacite.status_code == 200
    record = datacite.json()
    assert record["doi"].lower().startswith("10.5072/")
    assert {"multiple sclerosis", "FLAIR"} <= {s["subject"] for s in record["subjects"]}
