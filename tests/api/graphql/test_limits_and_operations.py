"""Hostile and unwanted documents (too deep, too costly, not persisted, introspection off) get a
clear coded error and no stack trace; harvest status and `startHarvest` for administrators."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydicom.data import get_testdata_file

from catalogue.access import ANONYMOUS, Identity
from catalogue.models import HarvestRun, RunStatus, Source
from catalogue.settings import Settings
from tests.api.graphql.conftest import ADMIN, Ask, as_caller, asker, codes, data

pytestmark = pytest.mark.anyio


async def _ask(app: FastAPI, document: str, **more: Any) -> dict[str, Any]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        return await asker(http)(document, **more)


def _nest(levels: int) -> str:
    """A document `4 + 4 * levels` fields deep (collection → site → collections → ...)."""
    inner = "id"
    for _ in range(levels):
        inner = f"site {{ collections(first: 2) {{ edges {{ node {{ {inner} }} }} }} }}"
    return f"{{ collections(first: 2) {{ edges {{ node {{ {inner} }} }} }} }}"


async def test_depth_and_cost_limits(node: FastAPI, settings: Settings) -> None:
    tight = as_caller(node, ANONYMOUS, settings.model_copy(update={"graphql_max_depth": 10}))
    assert data(await _ask(tight, _nest(1)))["collections"]
    body = await _ask(tight, _nest(2))
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert "12 levels deep; at most 10" in body["errors"][0]["message"]
    assert data(await _ask(node, _nest(2)))["collections"]  # the default allows 12
    costly = """{ sites(first: 100) { edges { node { collections(first: 100) { edges { node {
      subjects(first: 100) { edges { node { id sex } } } } } } } } } }"""
    body = await _ask(node, costly)
    assert codes(body) == ["QUERY_TOO_COSTLY"]
    assert "first" in body["errors"][0]["message"]
    variables = """query($n: Int) { sites(first: $n) { edges { node { collections(first: $n) {
      edges { node { subjects(first: $n) { edges { node { id sex } } } } } } } } } }"""
    assert codes(await _ask(node, variables, variables={"n": 100})) == ["QUERY_TOO_COSTLY"]
    assert codes(await _ask(node, variables, variables={"n": 3})) != ["QUERY_TOO_COSTLY"]


async def test_token_and_alias_floods_are_refused(api: Ask) -> None:
    aliases = "{ " + " ".join(f"a{i}: node {{ name }}" for i in range(60)) + " }"
    assert codes(await api(aliases)) == ["GRAPHQL_VALIDATION_FAILED"]
    tokens = "{ node { " + "name " * 6000 + "} }"
    body = await api(tokens)
    assert body["data"] is None and "token" in body["errors"][0]["message"].lower()


async def test_introspection_can_be_switched_off(node: FastAPI, settings: Settings) -> None:
    closed = as_caller(
        node, ANONYMOUS, settings.model_copy(update={"graphql_introspection": False})
    )
    body = await _ask(closed, "{ __schema { queryType { name } } }")
    assert set(codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert data(await _ask(closed, "{ node { name } }"))["node"]["name"]


async def test_persisted_queries_only(node: FastAPI, settings: Settings, tmp_path: Path) -> None:
    listed = tmp_path / "queries"
    listed.mkdir()
    text = "query Node { node { name version } }\n"
    (listed / "node.graphql").write_text(text)
    digest = hashlib.sha256(text.encode()).hexdigest()
    strict = as_caller(
        node, ANONYMOUS, settings.model_copy(update={"graphql_persisted_queries": listed})
    )

    assert data(await _ask(strict, "query Node {\n  node { name version }\n}"))["node"]
    by_hash = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    response_body = await _ask(strict, "", extensions=by_hash)
    assert data(response_body)["node"]["version"]
    refused = await _ask(strict, "{ sites { totalCount } }")
    assert codes(refused) == ["PERSISTED_QUERY_NOT_ALLOWED"]


async def test_unexpected_failures_are_masked(
    node: FastAPI, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    services = node.state.graphql_services

    leaked = ".".join(["1.2.840", "99999"])  # as if a header value had reached the message

    def broken(*_args: Any) -> Any:
        raise RuntimeError(leaked)

    services.search.cohort = broken  # a service failing in a way nobody planned for
    body = await _ask(node, '{ cohort(query: {text: "brain"}) { threshold } }')
    assert codes(body) == ["INTERNAL_SERVER_ERROR"]
    assert body["errors"][0]["message"] == "an unexpected error occurred"
    assert leaked not in str(body) and leaked not in caplog.text
    assert "RuntimeError" in caplog.text


def _sources_file(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        shutil.copy(str(get_testdata_file(name)), folder / name)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - name: export\n    kind: dicom-folder\n"
        f"    path: {folder}\n    collection: Export\n    workers: 1\n"
    )
    return sources


async def test_administrators_start_harvests_and_everyone_sees_their_status(
    node: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    configured = settings.model_copy(update={"sources_file": _sources_file(tmp_path)})
    from api.harvesting import harvest_service

    services = node.state.graphql_services
    harvests = harvest_service(configured, node.state.store, node.state.indexer)
    node.state.graphql_services = type(services)(**{**vars(services), "harvests": harvests})
    start = 'mutation { startHarvest(source: "export") { source startedAt } }'

    anonymous = as_caller(node, ANONYMOUS, configured)
    assert codes(await _ask(anonymous, start)) == ["FORBIDDEN"]
    admin = as_caller(node, ADMIN, configured)
    assert codes(await _ask(admin, 'mutation { startHarvest(source: "nope") { source } }')) == [
        "NOT_FOUND"
    ]
    assert data(await _ask(admin, start))["startHarvest"]["source"] == "export"
    harvests.wait(60)

    status = """{ sources { totalCount edges { node { name kind configured harvesting
        freshnessSeconds lastRun { status seen added failed errors { reason } } } } }
      harvestRuns(source: "export", first: 5) { totalCount edges { node { status added } } } }"""
    seen_by_admin = data(await _ask(admin, status))
    export = next(
        e["node"] for e in seen_by_admin["sources"]["edges"] if e["node"]["name"] == "export"
    )
    assert export["configured"] and not export["harvesting"]
    assert export["lastRun"]["status"] == "SUCCEEDED" and export["lastRun"]["added"] > 0
    assert export["lastRun"]["errors"] == []
    assert export["freshnessSeconds"] is not None
    assert seen_by_admin["harvestRuns"]["totalCount"] == 1
    seen_by_anyone = data(await _ask(anonymous, status))
    export = next(
        e["node"] for e in seen_by_anyone["sources"]["edges"] if e["node"]["name"] == "export"
    )
    assert export["lastRun"]["errors"] is None  # reasons are for administrators
    found = data(
        await _ask(anonymous, '{ search(query: {kind: SERIES, text: "ct"}) { totalCount } }')
    )
    assert found["search"]["totalCount"] >= 0


async def test_me(node: FastAPI) -> None:
    curator = Identity(subject="c@site", roles=frozenset({"curator"}))
    me = data(await _ask(as_caller(node, curator), "{ me { anonymous subject roles } }"))["me"]
    assert me == {"anonymous": False, "subject": "c@site", "roles": ["curator"]}
    me = data(await _ask(node, "{ me { anonymous subject roles } }"))["me"]
    assert me == {"anonymous": True, "subject": None, "roles": []}


async def test_harvest_runs_page_newest_first_even_with_equal_start_times(
    api: Ask, node: FastAPI
) -> None:
    store = node.state.store
    site = store.ensure_site("site-runs", "Runs")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with store.session() as session:
        source = Source(name="runs", kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()
        session.add_all(
            [
                HarvestRun(source_id=source.id, started_at=moment, status=RunStatus.SUCCEEDED)
                for _ in range(3)
            ]
        )
    seen, after = [], None
    while True:
        body = data(
            await api(
                """query($after: String) { harvestRuns(source: "runs", first: 1, after: $after) {
                  totalCount pageInfo { hasNextPage endCursor } edges { node { id } } } }""",
                {"after": after},
            )
        )["harvestRuns"]
        seen += [e["node"]["id"] for e in body["edges"]]
        if not body["pageInfo"]["hasNextPage"]:
            break
        after = body["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == body["totalCount"] == 3
