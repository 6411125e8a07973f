"""Every role x every visibility x every service call that answers about records or counts.

The expected access is written out by hand below (not computed by the policy under test): `R`
records (hits, exact counts), `C` suppressed counts only, `-` the collection does not exist for
the caller. Each call is checked against the generated ground truth: no hit, bucket, total or
error tells a caller more than its row allows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bench.catalogue_generator import Catalogue, generate, load
from catalogue.access import ANONYMOUS, Identity
from catalogue.errors import NotFoundError, PermissionDeniedError
from catalogue.grants import GrantService
from catalogue.models import GrantLevel, PrincipalKind, utcnow
from catalogue.search.embedded import EmbeddedBackend
from catalogue.search.indexer import Indexer
from catalogue.search.service import SearchService
from catalogue.services.overview import OverviewService
from catalogue.services.records import RecordService
from catalogue.store import Store

THRESHOLD = 5
# seed 1 gives these subject counts; the visibilities put a small (4) and a large (9) collection
# behind `aggregate`, so suppression is exercised both ways
LAYOUT = {
    "site-00": ["public", "aggregate", "registered", "private"],  # 15, 4, 14, 11 subjects
    "site-01": ["registered", "aggregate", "public", "private"],  # 2, 9, 7, 58 subjects
}
ADMIN = Identity("root", frozenset({"admin"}), via="token")
RESEARCHER = Identity("bob", frozenset({"researcher"}), via="token")
CURATOR = Identity("cora", frozenset({"researcher", "curator"}), sites=frozenset({"site-00"}))
GRANTEE = Identity("gina", frozenset({"researcher"}), groups=frozenset({"neuro"}))
CLIENT = Identity(
    "platform-x", frozenset({"client"}), scopes=frozenset({"records:read", "counts:read"})
)
COUNTER = Identity("platform-y", frozenset({"client"}), scopes=frozenset({"counts:read"}))

# (site, visibility) -> access, per role
_BASE = {"public": "R", "registered": "-", "aggregate": "C", "private": "-"}
_SIGNED_IN = {**_BASE, "registered": "R"}
EXPECTED: dict[str, tuple[Identity, dict[tuple[str, str], str]]] = {
    "anonymous": (ANONYMOUS, {(s, v): _BASE[v] for s in LAYOUT for v in _BASE}),
    "researcher": (RESEARCHER, {(s, v): _SIGNED_IN[v] for s in LAYOUT for v in _BASE}),
    "curator": (
        CURATOR,
        {**{(s, v): _SIGNED_IN[v] for s in LAYOUT for v in _BASE}, **{
            ("site-00", v): "R" for v in _BASE}},
    ),
    # grants: the group `neuro` reads site-01's private collection; gina counts site-00's
    "grantee": (
        GRANTEE,
        {**{(s, v): _SIGNED_IN[v] for s in LAYOUT for v in _BASE},
         ("site-01", "private"): "R", ("site-00", "private"): "C"},
    ),
    "admin": (ADMIN, {(s, v): "R" for s in LAYOUT for v in _BASE}),
    "client": (CLIENT, {(s, v): _SIGNED_IN[v] for s in LAYOUT for v in _BASE}),
    "counts-only client": (
        COUNTER,
        {(s, v): {"public": "C", "registered": "C", "aggregate": "C", "private": "-"}[v]
         for s in LAYOUT for v in _BASE},
    ),
}  # fmt: skip


@dataclass
class World:
    catalogue: Catalogue
    store: Store
    search: SearchService
    overview: OverviewService
    ids: dict[tuple[str, str], str]  # (site, visibility) -> collection id
    sizes: dict[str, int]  # collection id -> subjects


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("matrix")
    catalogue = generate(subjects=120, sites=2, collections_per_site=4, seed=1)
    ids, sizes = {}, {}
    for site in catalogue.sites:
        for coll, visibility in zip(site.collections, LAYOUT[site.slug], strict=True):
            coll.visibility = visibility
            ids[(site.slug, visibility)] = str(coll.id)
            sizes[str(coll.id)] = len(coll.subjects)
    store = Store(f"sqlite:///{root / 'catalogue.db'}", "http://node.test")
    store.upgrade()
    load(store, catalogue)
    backend = EmbeddedBackend(root / "search")
    Indexer(store, backend).rebuild()
    grants = GrantService(store)
    grants.grant(
        ADMIN,
        _uuid(ids[("site-01", "private")]),
        (PrincipalKind.GROUP, "neuro"),
        GrantLevel.RECORDS,
    )
    grants.grant(
        ADMIN, _uuid(ids[("site-00", "private")]), (PrincipalKind.USER, "gina"), GrantLevel.COUNTS
    )
    yield World(
        catalogue,
        store,
        SearchService(store, backend, THRESHOLD),
        OverviewService(store, THRESHOLD),
        ids,
        sizes,
    )
    store.dispose()


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def _with(world: World, role: str, *levels: str) -> set[str]:
    _, table = EXPECTED[role]
    return {world.ids[key] for key, level in table.items() if level in levels}


ROLES = list(EXPECTED)


def test_the_sizes_exercise_suppression(world: World) -> None:
    small, large = world.ids[("site-00", "aggregate")], world.ids[("site-01", "aggregate")]
    assert 0 < world.sizes[small] < THRESHOLD <= world.sizes[large]


@pytest.mark.parametrize("role", ROLES)
def test_search_hits_totals_and_facets(world: World, role: str) -> None:
    identity, _ = EXPECTED[role]
    readable = _with(world, role, "R")
    query = {"size": 500, "facets": [{"field": "collection", "size": 50}]}
    result = world.search.search(identity, query)
    assert {h.collection for h in result.hits} == {c for c in readable if world.sizes[c]}
    assert result.total == len(result.hits) == sum(world.sizes[c] for c in readable)
    (facet,) = result.facets
    shown = {str(b.value): b.count.value for b in facet.buckets}
    assert shown == {c: world.sizes[c] for c in readable if world.sizes[c]}
    assert not any(b.count.suppressed for b in facet.buckets)


@pytest.mark.parametrize("role", ROLES)
def test_collection_listings(world: World, role: str) -> None:
    identity, _ = EXPECTED[role]
    known = _with(world, role, "R", "C")
    listed = world.search.search(identity, {"kind": "collections", "size": 100})
    assert {h.id for h in listed.hits} == known
    assert listed.total == len(known)
    overview = world.overview.collections(identity)
    assert {str(c.id) for c in overview} == known
    for c in overview:
        size = world.sizes[str(c.id)]
        if str(c.id) in _with(world, role, "R") or size >= THRESHOLD:
            assert c.subjects.value == size
        else:
            assert c.subjects.value is None and c.subjects.suppressed


@pytest.mark.parametrize("role", ROLES)
def test_cohort_counts(world: World, role: str) -> None:
    identity, _ = EXPECTED[role]
    readable, countable = _with(world, role, "R"), _with(world, role, "C")
    cohort = world.search.cohort(identity, {"facets": [{"field": "collection", "size": 50}]})
    listed = {c.id: c.subjects for site in cohort.sites for c in site.collections}
    assert set(listed) == readable | countable
    for cid, count in listed.items():
        size = world.sizes[cid]
        if cid in readable:
            assert count.value == size and not count.suppressed
        elif 0 < size < THRESHOLD:
            assert count.value is None and count.suppressed
        else:
            assert count.value in (size, None)  # shown exactly, or hidden to protect another
    exact = sum(world.sizes[c] for c in readable)
    total = exact + sum(world.sizes[c] for c in countable)
    assert cohort.subjects.value in (total, None)
    assert cohort.subjects.at_least == exact
    (facet,) = cohort.facets
    for bucket in facet.buckets:
        assert str(bucket.value) in readable | countable
        assert bucket.count.value in (world.sizes[str(bucket.value)], None)


@pytest.mark.parametrize("role", ROLES)
def test_hidden_and_missing_collections_look_the_same(world: World, role: str) -> None:
    """A filter on a hidden collection's id finds what a made-up id finds: nothing. A grant
    look-up on it fails as on a collection that does not exist."""
    identity, table = EXPECTED[role]
    hidden = [world.ids[k] for k, level in table.items() if level == "-"]
    made_up = str(uuid.uuid4())
    for cid in [*hidden, made_up]:
        flt = {"op": "term", "field": "collection", "value": cid}
        assert world.search.search(identity, {"filter": flt, "size": 10}).total == 0
        cohort = world.search.cohort(identity, {"filter": flt})
        assert (cohort.subjects.value == 0 and cohort.sites == []) or all(
            c.subjects.value == 0 for s in cohort.sites for c in s.collections
        )
        with pytest.raises(NotFoundError) as raised:
            GrantService(world.store).of_collection(identity, _uuid(cid))
        assert raised.value.message == "no such collection"


@pytest.mark.parametrize("role", ROLES)
def test_only_curators_of_the_site_and_admins_manage_grants(world: World, role: str) -> None:
    identity, table = EXPECTED[role]
    for (site, visibility), level in table.items():
        cid = _uuid(world.ids[(site, visibility)])
        may_manage = identity.is_admin or (role == "curator" and site == "site-00")
        if may_manage:
            GrantService(world.store).of_collection(identity, cid)
        elif level == "-":
            with pytest.raises(NotFoundError):
                GrantService(world.store).of_collection(identity, cid)
        else:
            with pytest.raises(PermissionDeniedError):
                GrantService(world.store).of_collection(identity, cid)


def test_grants_expire_and_lower_nothing(world: World) -> None:
    grants = GrantService(world.store)
    public = _uuid(world.ids[("site-00", "public")])
    private = _uuid(world.ids[("site-00", "private")])
    # a counts grant on a public collection does not take its records away
    grants.grant(ADMIN, public, (PrincipalKind.USER, "bob"), GrantLevel.COUNTS)
    expired = grants.grant(
        ADMIN,
        private,
        (PrincipalKind.USER, "bob"),
        GrantLevel.RECORDS,
        expires_at=utcnow() - timedelta(seconds=1),
    )
    try:
        hits = world.search.search(RESEARCHER, {"size": 500}).hits
        assert str(public) in {h.collection for h in hits}
        assert str(private) not in {h.collection for h in hits}
        assert all(g.id != expired.id for g in grants.held_by(RESEARCHER))
    finally:
        for g in grants.of_collection(ADMIN, public) + grants.of_collection(ADMIN, private):
            if g.principal == "bob":
                grants.revoke(ADMIN, g.id)
    with world.store.engine.connect() as conn:
        left = conn.execute(sa.text("select count(*) from access_grant")).scalar_one()
    assert left == 2


@pytest.mark.parametrize("role", ROLES)
def test_record_reads(world: World, role: str) -> None:
    """Records and their children only from `R` collections; a hidden collection is not found,
    exactly as a made-up one; a counts-only one is forbidden (the caller knows it exists)."""
    identity, table = EXPECTED[role]
    reader = RecordService(world.store).reader(identity)
    readable = _with(world, role, "R")
    for site in world.catalogue.sites:
        for coll in site.collections:
            ids = [s.id for s in coll.subjects]
            found = reader.by_ids("subjects", ids)
            assert set(found) == (set(ids) if str(coll.id) in readable else set())
            level = table[(site.slug, coll.visibility)]
            if level == "R":
                reader.require_records(coll.id)
            elif level == "C":
                with pytest.raises(PermissionDeniedError):
                    reader.require_records(coll.id)
            else:
                with pytest.raises(NotFoundError) as hidden:
                    reader.require_records(coll.id)
                with pytest.raises(NotFoundError) as missing:
                    reader.require_records(uuid.uuid4())
                assert hidden.value.message == missing.value.message
