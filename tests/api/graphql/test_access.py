"""`me` with the caller's grants, and the audit log for administrators only."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from catalogue.access import Identity
from catalogue.audit import AuditLog
from catalogue.grants import GrantService
from catalogue.models import Collection, GrantLevel, PrincipalKind, Source
from tests.api.graphql.conftest import ADMIN, as_caller, codes, data
from tests.api.graphql.test_limits_and_operations import _ask

pytestmark = pytest.mark.anyio
RESEARCHER = Identity(subject="r@site", roles=frozenset({"researcher"}), groups=frozenset({"ms"}))
ME = "{ me { anonymous subject roles groups scopes via grants { principal level } } }"
AUDIT = """query($first: Int, $after: String) {
  auditLog(first: $first, after: $after) {
    totalCount edges { cursor node { subject action resultSize collections } }
    pageInfo { hasNextPage endCursor } } }"""


def _collection(node: FastAPI) -> Collection:
    store = node.state.store
    site = store.ensure_site("site-access", "Access")
    with store.session() as session:
        source = Source(name="access", kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()
        collection = Collection(
            source_id=source.id, native_id="c", site_id=site.id, title="Registry",
            visibility="aggregate",
        )  # fmt: skip
        session.add(collection)
    return collection


async def test_me_lists_the_grants_the_caller_holds(node: FastAPI) -> None:
    collection = _collection(node)
    GrantService(node.state.store).grant(
        ADMIN, collection.id, (PrincipalKind.GROUP, "ms"), GrantLevel.RECORDS
    )
    me = data(await _ask(as_caller(node, RESEARCHER), ME))["me"]
    assert me["subject"] == "r@site" and me["groups"] == ["ms"] and me["scopes"] is None
    assert me["grants"] == [{"principal": "ms", "level": "records"}]
    anonymous = data(await _ask(node, ME))["me"]
    assert anonymous["anonymous"] and anonymous["grants"] == []


async def test_the_audit_log_pages_newest_first_for_admins_only(node: FastAPI) -> None:
    log = AuditLog(node.state.store)
    for n in range(3):
        log.record(RESEARCHER, "search", {"text": f"q{n}"}, ["c"], n + 1)
    first = data(await _ask(as_caller(node, ADMIN), AUDIT, variables={"first": 2}))["auditLog"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    assert [e["node"]["resultSize"] for e in first["edges"]] == [3, 2]
    after = first["pageInfo"]["endCursor"]
    rest = data(await _ask(as_caller(node, ADMIN), AUDIT, variables={"first": 2, "after": after}))
    assert [e["node"]["resultSize"] for e in rest["auditLog"]["edges"]] == [1]
    refused = await _ask(as_caller(node, RESEARCHER), AUDIT, variables={"first": 2})
    assert codes(refused) == ["FORBIDDEN"]


@pytest.mark.parametrize("cursor", ["not-a-cursor", "ImEi"])
async def test_a_bad_audit_cursor_is_bad_input(node: FastAPI, cursor: str) -> None:
    answer = await _ask(as_caller(node, ADMIN), AUDIT, variables={"first": 1, "after": cursor})
    assert codes(answer) == ["BAD_USER_INPUT"]
