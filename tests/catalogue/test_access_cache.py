"""The search service keeps collection access between calls, yet never answers from a stale
view: every grant, visibility, deletion or site change, by any writer, shows on the next call.
On SQLite and PostgreSQL (the triggers that move the access epoch differ)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col

from bench.catalogue_generator import generate, load
from catalogue import grants as grants_module
from catalogue.access import ANONYMOUS, Access, Identity
from catalogue.grants import AccessCache, GrantService
from catalogue.models import AccessEpoch, Collection, GrantLevel, PrincipalKind, Site, utcnow
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.service import SearchService
from catalogue.store import Store

ADMIN = Identity("root", frozenset({"admin"}), via="token")
BOB = Identity("bob", frozenset({"researcher"}), via="token")


@pytest.fixture
def service(store: Store, tmp_path: Path) -> SearchService:
    catalogue = generate(subjects=20, sites=1, collections_per_site=2, seed=1)
    first, second = catalogue.sites[0].collections
    first.visibility, second.visibility = "public", "private"
    load(store, catalogue)
    return SearchService(store, EmbeddedBackend(tmp_path / "search"), 5)


def _private(service: SearchService) -> uuid.UUID:
    with service.store.engine.connect() as conn:
        found = conn.execute(
            sa.select(col(Collection.id)).where(col(Collection.visibility) == "private")
        ).scalar_one()
    return uuid.UUID(str(found))


def _access(service: SearchService, identity: Identity, collection: uuid.UUID) -> Access:
    found = {c.id: c.access for c in service.collections(identity)}
    return found.get(str(collection), Access.NONE)


def _epoch(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(col(AccessEpoch.n))).scalar_one())


def test_answers_are_kept_while_nothing_changes(service: SearchService) -> None:
    with service.store.engine.connect() as conn:
        first = service.access.get(conn, BOB)
        assert service.access.get(conn, BOB) is first


def test_the_oldest_answers_go_beyond_the_budget(service: SearchService) -> None:
    cache = AccessCache(list, budget=2)  # the fixture's two collections: one answer fits
    with service.store.engine.connect() as conn:
        first = cache.get(conn, BOB)
        assert cache.get(conn, BOB) is first
        cache.get(conn, ANONYMOUS)
        assert cache.get(conn, BOB) is not first


def test_grant_and_revoke_show_on_the_next_call(service: SearchService) -> None:
    private = _private(service)
    assert _access(service, BOB, private) is Access.NONE
    grant = GrantService(service.store).grant(
        ADMIN, private, (PrincipalKind.USER, "bob"), GrantLevel.COUNTS
    )
    assert _access(service, BOB, private) is Access.COUNTS
    GrantService(service.store).grant(
        ADMIN, private, (PrincipalKind.USER, "bob"), GrantLevel.RECORDS
    )
    assert _access(service, BOB, private) is Access.RECORDS
    GrantService(service.store).revoke(ADMIN, grant.id)
    assert _access(service, BOB, private) is Access.NONE


def test_visibility_deletion_and_site_changes_show_on_the_next_call(
    service: SearchService, store_url: str
) -> None:
    private = _private(service)
    assert _access(service, ANONYMOUS, private) is Access.NONE
    with service.store.session() as session:  # the ORM
        row = session.get(Collection, private)
        assert row is not None
        row.visibility = "aggregate"  # type: ignore[assignment]
    assert _access(service, ANONYMOUS, private) is Access.COUNTS
    other = Store(store_url, "http://node.test")  # another writer: a CLI, another worker
    try:
        with other.engine.begin() as conn:
            conn.execute(sa.update(Site).values(name="Renamed"))
            conn.execute(
                sa.update(Collection)
                .where(col(Collection.id) == private)
                .values(deleted_at=utcnow())
            )
    finally:
        other.dispose()
    shown = service.collections(ANONYMOUS)
    assert str(private) not in {c.id for c in shown}
    assert {c.site_name for c in shown} == {"Renamed"}


def test_writes_that_change_no_access_keep_the_epoch(service: SearchService) -> None:
    before = _epoch(service.store)
    with service.store.engine.begin() as conn:
        conn.execute(sa.update(Collection).values(description="new words", last_seen_at=utcnow()))
        conn.execute(sa.update(Site).values(homepage="https://example.org"))
    assert _epoch(service.store) == before


def test_an_expiring_grant_ends_on_time(
    service: SearchService, monkeypatch: pytest.MonkeyPatch
) -> None:
    private, now = _private(service), utcnow()
    GrantService(service.store).grant(
        ADMIN,
        private,
        (PrincipalKind.USER, "bob"),
        GrantLevel.RECORDS,
        expires_at=now + timedelta(hours=1),
    )
    assert _access(service, BOB, private) is Access.RECORDS
    monkeypatch.setattr(grants_module, "utcnow", lambda: now + timedelta(hours=2))
    assert _access(service, BOB, private) is Access.NONE
