"""Three real nodes on loopback, each its own processes and database: site A harvests Orthanc and a
DICOM export, site B shares counts only, and a hub harvests A through its change feed and asks B
live. The hub's answers must equal what the sites say themselves."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from harvesters.dicom.sample import write_sample_export
from tests.federation.nodes import Node
from tests.harvesters import orthanc

pytestmark = pytest.mark.orthanc

COUNT = "{ value suppressed threshold atLeast }"
COHORT = f"""
query Cohort($query: CohortInput!) {{
  cohort(query: $query) {{
    subjects {COUNT} series {COUNT} partial
    sites {{ slug subjects {COUNT} studies {COUNT} series {COUNT} }}
    siteStatus {{ slug origin asOf reason }}
  }}
}}
"""
EVERYONE: dict[str, Any] = {}
MR = {"filter": {"hasSeries": {"term": {"field": "modality", "value": "MR"}}}}


@dataclass
class Consortium:
    a: Node
    b: Node
    hub: Node
    a_key_id: str
    b_key: str


@pytest.fixture(scope="module")
def consortium(tmp_path_factory: pytest.TempPathFactory, orthanc_url: str) -> Iterator[Consortium]:
    root = tmp_path_factory.mktemp("consortium")
    orthanc.load(orthanc_url)
    a = Node(root / "a", "site-a", CATALOGUE_HARVEST_DELETE_AFTER_RUNS="1")
    write_sample_export(root / "a" / "export")
    a.write_sources(
        [
            {"name": "pacs", "kind": "dicomweb", "url": f"{orthanc_url}/dicom-web"}
            | {"collection": "Site A PACS"},
            {"name": "export", "kind": "dicom-folder", "path": str(root / "a" / "export")}
            | {"collection": "Site A export", "workers": 1},
        ]
    )
    b = Node(root / "b", "site-b")
    write_sample_export(root / "b" / "export")
    b.write_sources(
        [
            {"name": "export", "kind": "dicom-folder", "path": str(root / "b" / "export")}
            | {"collection": "Site B registry", "visibility": "aggregate", "workers": 1}
        ]
    )
    a.harvest()
    b.harvest()
    a_key_id, a_key = a.key("hub")
    _b_id, b_key = b.key("hub", "counts:read")
    hub = Node(root / "hub", "hub")
    hub.write_sources(
        [
            {"name": "site-a", "kind": "peer", "site": "site-a", "url": a.graphql}
            | {"api_key": a_key, "page_size": 50},
            {"name": "site-b", "kind": "peer", "site": "site-b", "url": b.graphql}
            | {"api_key": b_key, "live_counts": True, "live_timeout_s": 3},
        ]
    )
    nodes = [a, b, hub]
    try:
        a.start()
        b.start()
        hub.harvest()
        hub.start()
        yield Consortium(a, b, hub, a_key_id, b_key)
    finally:
        for node in nodes:
            node.stop()


def _cohort(node: Node, query: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = node.query(COHORT, key, {"query": query})["cohort"]
    return answer


def _site(answer: dict[str, Any], slug: str) -> dict[str, Any]:
    return next(s for s in answer["sites"] if s["slug"] == slug)


@pytest.mark.parametrize("query", [EVERYONE, MR], ids=["everyone", "mr"])
def test_the_hub_answers_what_the_sites_say(consortium: Consortium, query: dict[str, Any]) -> None:
    at_hub = _cohort(consortium.hub, query)
    at_a = _cohort(consortium.a, query)
    at_b = _cohort(consortium.b, query, consortium.b_key)  # what B tells the hub's key
    for measure in ("subjects", "studies", "series"):
        assert _site(at_hub, "site-a")[measure] == _site(at_a, "site-a")[measure]
        assert _site(at_hub, "site-b")[measure] == _site(at_b, "site-b")[measure]
    status = {s["slug"]: s for s in at_hub["siteStatus"]}
    assert status["site-a"]["origin"] == "index" and status["site-a"]["asOf"]
    assert status["site-b"]["origin"] == "live"
    assert not at_hub["partial"]
    b_subjects = _site(at_b, "site-b")["subjects"]
    a_subjects = _site(at_a, "site-a")["subjects"]["value"]
    total = at_hub["subjects"]
    if b_subjects["suppressed"]:  # the hub never un-suppresses by adding
        assert total["value"] is None and total["suppressed"]
        assert total["atLeast"] == a_subjects + b_subjects["atLeast"]
    else:
        assert total["value"] == a_subjects + b_subjects["value"]


def test_a_count_only_site_exports_no_records(consortium: Consortium) -> None:
    answer = consortium.hub.query(
        "{ search(query: {kind: SERIES}) { totalCount edges { siteSlug } } }"
    )
    sites = {e["siteSlug"] for e in answer["search"]["edges"]}
    assert "site-b" not in sites and "site-a" in sites


def test_changes_need_a_key(consortium: Consortium) -> None:
    reply = httpx.post(
        consortium.a.graphql, json={"query": "{ changes { endCursor } }"}, timeout=30
    )
    assert reply.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    wrong = {"Authorization": "Bearer cat_000000000000_wrong"}
    reply = httpx.post(
        consortium.a.graphql, json={"query": "{ changes { endCursor } }"}, headers=wrong, timeout=30
    )
    assert reply.status_code == 401 and "data" not in reply.json()


def test_deletions_at_a_site_reach_the_hub(consortium: Consortium) -> None:
    a, hub = consortium.a, consortium.hub
    before = _site(_cohort(a, EVERYONE), "site-a")["series"]["value"]
    shutil.rmtree(a.root / "export" / "pydicom" / "00")
    a.harvest()
    after = _site(_cohort(a, EVERYONE), "site-a")["series"]["value"]
    assert after < before
    run = hub.cli("harvest", "site-a")
    assert "succeeded" in run.stdout
    assert _site(_cohort(hub, EVERYONE), "site-a")["series"]["value"] == after


def test_a_silent_or_dead_live_site_gives_a_partial_answer(consortium: Consortium) -> None:
    consortium.b.pause()
    try:
        answer = _cohort(consortium.hub, EVERYONE)
    finally:
        consortium.b.resume()
    status = {s["slug"]: s for s in answer["siteStatus"]}
    assert answer["partial"] and status["site-b"]["origin"] == "unavailable"
    assert "no answer within" in status["site-b"]["reason"]
    assert _site(answer, "site-a")["subjects"]["value"] > 0
    consortium.b.kill()
    answer = _cohort(consortium.hub, EVERYONE)
    status = {s["slug"]: s for s in answer["siteStatus"]}
    assert answer["partial"] and "unreachable" in status["site-b"]["reason"]


def test_a_revoked_key_gets_nothing_more(consortium: Consortium) -> None:
    consortium.a.cli("keys", "revoke", consortium.a_key_id)
    run = consortium.hub.cli("harvest", "site-a", check=False)
    assert run.returncode != 0
    assert "refused" in run.stdout + run.stderr


def test_a_wrong_key_gets_nothing(consortium: Consortium, tmp_path: Path) -> None:
    other = Node(tmp_path / "hub2", "hub2")
    other.write_sources(
        [
            {"name": "site-a", "kind": "peer", "site": "site-a", "url": consortium.a.graphql}
            | {"api_key": "cat_000000000000_not-a-key"}
        ]
    )
    run = other.harvest(check=False)
    assert run.returncode != 0 and "refused" in run.stdout + run.stderr
    other.start()
    try:
        assert _cohort(other, EVERYONE)["subjects"]["value"] == 0
    finally:
        other.stop()
