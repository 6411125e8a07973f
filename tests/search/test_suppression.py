"""Suppression: small restricted counts are hidden, and an attacker who knows every visible cell,
every exact part and every additive relation of the answer cannot recover a hidden one — neither
by linear algebra (differencing any combination of cells) nor by bounding (hidden cells are at
least 1, every count at least 0)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue.access import ANONYMOUS, Identity
from catalogue.models import Visibility
from catalogue.search._summary import CollectionInfo, Layout
from catalogue.search.backend import Aggregates, FacetCounts, GroupCounts
from catalogue.search.query import TermsFacet
from catalogue.search.service import CohortSummary, summarise
from catalogue.search.suppression import Access, Count, Policy, access_of

ADMIN = Identity(subject="root", roles=frozenset({"admin"}))
GROUPS = ("patient", "control", "sham")


def test_access_follows_the_visibility_rules() -> None:
    expected = {
        Visibility.PUBLIC: Access.RECORDS,
        Visibility.REGISTERED: Access.NONE,
        Visibility.AGGREGATE: Access.COUNTS,
        Visibility.PRIVATE: Access.NONE,
    }
    assert {v: access_of(ANONYMOUS, v) for v in Visibility} == expected
    assert {access_of(ADMIN, v) for v in Visibility} == {Access.RECORDS}


def test_a_small_cell_and_its_complement_are_hidden() -> None:
    summary = _summarise([("a", "s1", Access.COUNTS, 3, {}), ("b", "s1", Access.COUNTS, 40, {})])
    site = summary.sites[0]
    assert site.collections[0].subjects == Count(value=None, suppressed=True, threshold=5)
    assert site.collections[1].subjects.suppressed, "else 43 - 40 would give the hidden 3"
    assert site.subjects == Count(value=43, at_least=0)


def test_exact_parts_stay_visible_and_records_are_never_suppressed() -> None:
    summary = _summarise([("a", "s1", Access.RECORDS, 2, {}), ("b", "s1", Access.COUNTS, 2, {})])
    public, hidden = summary.sites[0].collections
    assert public.subjects == Count(value=2, at_least=2)
    assert hidden.subjects.suppressed
    assert summary.subjects.suppressed and summary.subjects.at_least == 2


def test_rounding_rounds_only_restricted_parts() -> None:
    rows = [("a", "s1", Access.RECORDS, 7, {}), ("b", "s1", Access.COUNTS, 23, {})]
    summary = _summarise(rows, Policy(threshold=5, rounding=5))
    assert summary.sites[0].collections[1].subjects.value == 25
    assert summary.sites[0].collections[0].subjects.value == 7


# -- the attacker ------------------------------------------------------------------------------
Row = tuple[str, str, Access, int, dict[str, int]]  # collection, site, access, subjects, groups


def _summarise(rows: list[Row], policy: Policy | None = None) -> CohortSummary:
    colls, groups = [], {}
    for cid, site, access, subjects, by_group in rows:
        visibility = Visibility.PUBLIC if access is Access.RECORDS else Visibility.AGGREGATE
        colls.append(CollectionInfo(cid, cid.upper(), site, site.upper(), visibility, access))
        valued = sum(by_group.values())
        facet = FacetCounts(buckets={g: n for g, n in by_group.items() if n}, with_value=valued)
        sums = {"study_count": subjects * 2, "series_count": subjects * 5}
        groups[cid] = GroupCounts(docs=subjects, sums=sums, facets={"group": facet})
    aggs = Aggregates(groups={k: g for k, g in groups.items() if g.docs})
    facet = [TermsFacet(field="group", size=2)]
    return summarise(aggs, Layout.of(colls), facet, policy or Policy(5), "t")


@dataclass
class Seen:
    """One cell as the attacker sees it, and its true restricted part (for the verdict)."""

    count: Count
    true_restricted: int


def _cells(
    summary: CohortSummary, rows: list[Row]
) -> tuple[dict[Any, Seen], list[tuple[Any, list[Any]]]]:
    truth = {cid: (site, access, n, g) for cid, site, access, n, g in rows}
    hidden = {
        cid: (n if access is Access.COUNTS else 0) for cid, (_, access, n, _) in truth.items()
    }
    cells: dict[Any, Seen] = {}
    relations: list[tuple[Any, list[Any]]] = []
    for measure, factor in (("subjects", 1), ("studies", 2), ("series", 5)):
        cells[(measure,)] = Seen(getattr(summary, measure), factor * sum(hidden.values()))
        sites = []
        for site in summary.sites:
            key = (measure, site.slug)
            ids = [c.id for c in site.collections]
            cells[key] = Seen(getattr(site, measure), factor * sum(hidden[i] for i in ids))
            for c in site.collections:
                cells[(measure, site.slug, c.id)] = Seen(getattr(c, measure), factor * hidden[c.id])
            relations.append((key, [(measure, site.slug, i) for i in ids]))
            sites.append(key)
        relations.append(((measure,), sites))
    facet = summary.facets[0]
    restricted_by = {
        g: sum(truth[c][3].get(g, 0) for c in truth if truth[c][1] is Access.COUNTS) for g in GROUPS
    }
    members = []
    for bucket in facet.buckets:
        cells[("group", bucket.value)] = Seen(bucket.count, restricted_by[str(bucket.value)])
        members.append(("group", bucket.value))
    shown = {b.value for b in facet.buckets}
    cells[("group", "other")] = Seen(
        facet.other or Count(value=0), sum(v for g, v in restricted_by.items() if g not in shown)
    )
    cells[("group", "missing")] = Seen(
        facet.missing, sum(hidden.values()) - sum(restricted_by.values())
    )
    relations.append((("subjects",), [*members, ("group", "other"), ("group", "missing")]))
    return cells, relations


def _equations(
    cells: dict[Any, Seen], relations: list[tuple[Any, list[Any]]]
) -> tuple[list[Any], list[tuple[dict[Any, int], int]]]:
    """Unknowns (suppressed cells) and equations Σ coef·x = constant from every relation."""
    unknown = [k for k, s in cells.items() if s.count.suppressed]
    equations = []
    for parent, children in relations:
        coef: dict[Any, int] = {}
        constant = 0
        for key, sign in [(parent, 1), *((c, -1) for c in children)]:
            seen = cells[key]
            if seen.count.suppressed:
                coef[key] = coef.get(key, 0) + sign
            else:
                assert seen.count.value is not None
                constant -= sign * (seen.count.value - seen.count.at_least)
        equations.append((coef, constant))
    return unknown, equations


def _rank(rows: list[list[Fraction]]) -> int:
    rows = [r[:] for r in rows]
    rank, cols = 0, len(rows[0]) if rows else 0
    for col in range(cols):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                factor = rows[i][col] / rows[rank][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rank


def _determined(
    unknown: list[Any], equations: list[tuple[dict[Any, int], int]], target: Any
) -> bool:
    """Is `target` fixed by the equations (its unit vector in their row space)?"""
    matrix = [[Fraction(coef.get(u, 0)) for u in unknown] for coef, _ in equations if coef]
    unit = [Fraction(1 if u == target else 0) for u in unknown]
    if not matrix:
        return False
    return _rank([*matrix, unit]) == _rank(matrix)


def _bounds(
    unknown: list[Any], equations: list[tuple[dict[Any, int], int]]
) -> dict[Any, tuple[float, float]]:
    """Interval propagation: every hidden cell is at least 1 (complements are never zero)."""
    lo = dict.fromkeys(unknown, 1.0)
    hi = dict.fromkeys(unknown, math.inf)
    for _ in range(50):
        changed = False
        for coef, constant in equations:
            for var, a in coef.items():
                rest_lo = sum(b * (lo[v] if b > 0 else hi[v]) for v, b in coef.items() if v != var)
                rest_hi = sum(b * (hi[v] if b > 0 else lo[v]) for v, b in coef.items() if v != var)
                low, high = sorted(((constant - rest_hi) / a, (constant - rest_lo) / a))
                if low > lo[var] + 1e-9 and not math.isnan(low):
                    lo[var], changed = low, True
                if high < hi[var] - 1e-9 and not math.isnan(high):
                    hi[var], changed = high, True
        if not changed:
            break
    return {u: (lo[u], hi[u]) for u in unknown}


@st.composite
def _catalogues(draw: st.DrawFn) -> list[Row]:
    rows: list[Row] = []
    for s in range(draw(st.integers(1, 3))):
        for c in range(draw(st.integers(1, 3))):
            access = draw(st.sampled_from([Access.COUNTS, Access.COUNTS, Access.RECORDS]))
            counts = {g: draw(st.integers(0, 12)) for g in GROUPS}
            missing = draw(st.integers(0, 4))
            rows.append((f"c{s}{c}", f"s{s}", access, sum(counts.values()) + missing, counts))
    return rows


@settings(max_examples=300, deadline=None)
@given(rows=_catalogues(), threshold=st.integers(2, 6))
def test_suppressed_counts_cannot_be_recovered(rows: list[Row], threshold: int) -> None:
    summary = _summarise(rows, Policy(threshold))
    cells, relations = _cells(summary, rows)
    for key, seen in cells.items():
        if 0 < seen.true_restricted < threshold:
            assert seen.count.suppressed, f"{key}: {seen.true_restricted} shown"
        if not seen.count.suppressed:
            assert seen.count.value == seen.count.at_least + seen.true_restricted, key
    unknown, equations = _equations(cells, relations)
    bounds = _bounds(unknown, equations)
    for key in unknown:
        if 0 < cells[key].true_restricted < threshold:
            assert not _determined(unknown, equations, key), f"{key} follows by differencing"
            low, high = bounds[key]
            assert high - low >= 1, f"{key} pinned to {low}..{high}"
