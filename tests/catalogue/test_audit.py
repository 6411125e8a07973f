"""The audit log: queries drawing on non-public collections are recorded; admins read them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bench.catalogue_generator import generate, load
from catalogue.access import ANONYMOUS, Identity
from catalogue.audit import AuditLog
from catalogue.errors import PermissionDeniedError, ValidationError
from catalogue.models import utcnow
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService
from catalogue.store import Store

ADMIN = Identity("root", frozenset({"admin"}), via="token")
RESEARCHER = Identity("bob", frozenset({"researcher"}), via="token")
AUDITOR = Identity("siem", frozenset({"client"}), scopes=frozenset({"audit:read"}))


@pytest.fixture
def node(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[SearchService, dict[str, str]]]:
    root = tmp_path_factory.mktemp("audit")
    catalogue = generate(subjects=60, sites=1, collections_per_site=3, seed=2)
    layout = ["public", "registered", "aggregate"]
    ids = {}
    for coll, visibility in zip(catalogue.sites[0].collections, layout, strict=True):
        coll.visibility, ids[visibility] = visibility, str(coll.id)
    store = Store(f"sqlite:///{root / 'catalogue.db'}", "http://node.test")
    store.upgrade()
    load(store, catalogue)
    backend = EmbeddedBackend(root / "search")
    Indexer(store, backend).rebuild()
    yield SearchService(store, backend, 5), ids
    store.dispose()


def _in(collection: str) -> dict[str, str]:
    return {"op": "term", "field": "collection", "value": collection}


def test_public_only_answers_are_not_audited(node: tuple[SearchService, dict[str, str]]) -> None:
    service, _ = node
    service.search(ANONYMOUS, {"text": "brain"})
    service.search(RESEARCHER, {"filter": _in("nope")})
    assert AuditLog(service.store).entries(ADMIN).entries == []


def test_who_what_when_and_how_much(node: tuple[SearchService, dict[str, str]]) -> None:
    service, ids = node
    sizes = {v: service.search(ADMIN, {"filter": _in(ids[v]), "size": 0}).total for v in ids}
    before = utcnow()
    found = service.search(RESEARCHER, {"size": 3, "sort": [{"field": "birth_year"}]})
    cohort = service.cohort(ANONYMOUS, {"facets": [{"field": "sex"}]})
    log = AuditLog(service.store)
    newest, older = log.entries(ADMIN, since=before).entries
    assert (newest.subject, newest.via, newest.action) == (None, "anonymous", "cohort")
    assert newest.collections == [ids["aggregate"]]
    assert newest.query == {"facets": [{"field": "sex"}]}
    assert newest.result_size == sizes["public"] + sizes["aggregate"]
    assert cohort.subjects.value in (newest.result_size, None)
    assert (older.subject, older.via, older.action) == ("bob", "token", "search")
    assert older.collections == [ids["registered"]]
    assert older.result_size == found.total
    assert older.query["size"] == 3
    assert before <= older.at <= newest.at <= utcnow()


def test_filters_and_pages(node: tuple[SearchService, dict[str, str]]) -> None:
    service, _ = node
    for _ in range(3):
        service.search(RESEARCHER, {"size": 1})
    service.cohort(ADMIN, {})
    log = AuditLog(service.store)
    assert {e.subject for e in log.entries(AUDITOR, subject="bob").entries} == {"bob"}
    assert [e.action for e in log.entries(ADMIN, action="cohort").entries] == ["cohort"]
    first = log.entries(ADMIN, limit=2)
    assert len(first.entries) == 2 and first.next_after == first.entries[-1].id
    rest = log.entries(ADMIN, limit=2, after=first.next_after)
    assert len(rest.entries) == 2 and rest.next_after is None
    assert log.entries(ADMIN, since=utcnow() + timedelta(minutes=1)).entries == []


@pytest.mark.parametrize("caller", [ANONYMOUS, RESEARCHER, Identity("c", frozenset({"client"}))])
def test_only_admins_and_audit_clients_read_it(
    node: tuple[SearchService, dict[str, str]], caller: Identity
) -> None:
    service, _ = node
    with pytest.raises(PermissionDeniedError):
        AuditLog(service.store).entries(caller)
    with pytest.raises(ValidationError):
        AuditLog(service.store).entries(ADMIN, limit=10_000)
