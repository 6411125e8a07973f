"""Saved cohorts on SQLite and PostgreSQL: each person sees, replaces and deletes only their own;
anonymous callers keep none; oversized or empty input is refused and stores nothing."""

from __future__ import annotations

import uuid

import pytest

from catalogue.access import Identity
from catalogue.errors import AuthenticationError, NotFoundError, ValidationError
from catalogue.services.cohorts import MAX_QUERY_BYTES, SavedCohortService
from catalogue.store import Store

ANN = Identity(subject="ann", roles=frozenset({"researcher"}))
BOB = Identity(subject="bob", roles=frozenset({"researcher"}))
ADMIN = Identity(subject="root", roles=frozenset({"admin"}))
FLAIR = {"filter": {"hasSeries": {"term": {"field": "sequence_type", "values": ["FLAIR"]}}}}


@pytest.fixture
def cohorts(store: Store) -> SavedCohortService:
    return SavedCohortService(store)


def test_each_owner_sees_only_their_own(cohorts: SavedCohortService) -> None:
    mine = cohorts.save(ANN, "  FLAIR   at 3 T ", FLAIR, "?g=%5B%5D")
    cohorts.save(ANN, "All", {}, "")
    cohorts.save(BOB, "All", {"text": "glioma"}, "?q=glioma")
    assert mine.name == "FLAIR at 3 T" and mine.query == FLAIR and mine.url_state == "?g=%5B%5D"
    assert [c.name for c in cohorts.list(ANN)] == ["All", "FLAIR at 3 T"]
    assert [(c.name, c.query) for c in cohorts.list(BOB)] == [("All", {"text": "glioma"})]
    assert cohorts.list(ADMIN) == []  # working notes, not records: administrators see none


def test_saving_a_name_again_replaces_that_cohort(cohorts: SavedCohortService) -> None:
    first = cohorts.save(ANN, "Mine", {}, "?q=a")
    again = cohorts.save(ANN, "Mine", FLAIR, "?q=b")
    assert again.id == first.id and again.created_at == first.created_at
    assert again.updated_at >= first.updated_at
    assert [(c.query, c.url_state) for c in cohorts.list(ANN)] == [(FLAIR, "?q=b")]


def test_nobody_deletes_another_ones_cohort(cohorts: SavedCohortService) -> None:
    anns = cohorts.save(ANN, "Mine", FLAIR)
    with pytest.raises(NotFoundError):
        cohorts.delete(BOB, anns.id)
    with pytest.raises(NotFoundError):
        cohorts.delete(ADMIN, anns.id)
    with pytest.raises(NotFoundError):
        cohorts.delete(ANN, uuid.uuid4())
    assert [c.id for c in cohorts.list(ANN)] == [anns.id]
    cohorts.delete(ANN, anns.id)
    assert cohorts.list(ANN) == []


def test_anonymous_callers_keep_nothing_on_the_node(cohorts: SavedCohortService) -> None:
    with pytest.raises(AuthenticationError):
        cohorts.save(Identity(), "Mine", FLAIR)
    with pytest.raises(AuthenticationError):
        cohorts.list(Identity())


@pytest.mark.parametrize(
    ("name", "query", "url_state", "where"),
    [
        ("   ", FLAIR, "", "name"),
        ("x" * 121, FLAIR, "", "name"),
        ("big", {"text": "x" * MAX_QUERY_BYTES}, "", "query"),
        ("long", FLAIR, "?" + "q" * 4096, "urlState"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(
    cohorts: SavedCohortService, name: str, query: dict[str, object], url_state: str, where: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        cohorts.save(ANN, name, query, url_state)
    assert [d.location for d in refused.value.details] == [where]
    assert cohorts.list(ANN) == []
