"""Turning raw per-collection aggregates into what a caller sees: sites, collections, facets,
each count split into exact and restricted parts and passed through the suppression policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

from catalogue.models import Visibility
from catalogue.search.backend import Aggregates, GroupCounts
from catalogue.search.fields import FIELDS, ROOT_FIELDS, Kind
from catalogue.search.query import Facet, HistogramFacet
from catalogue.search.suppression import Access, Cell, Count, Key, Policy, Table, top

MEASURES = ("subjects", "studies", "series")
STUDY_COUNT, SERIES_COUNT = "study_count", "series_count"
Value = str | int | float | bool


@dataclass(frozen=True)
class CollectionInfo:
    id: str
    title: str
    site: str
    site_name: str
    visibility: Visibility
    access: Access


class Bucket(BaseModel):
    value: Value
    low: float | None = None  # histogram bins: [low, high)
    high: float | None = None
    count: Count


class FacetResult(BaseModel):
    field: str
    type: Literal["terms", "histogram"]
    buckets: list[Bucket]
    other: Count | None  # further values (terms beyond `size`) or values outside the bins
    missing: Count  # documents without a value


class CollectionCounts(BaseModel):
    id: str
    title: str
    visibility: Visibility
    subjects: Count
    studies: Count
    series: Count


class SiteCounts(BaseModel):
    slug: str
    name: str
    subjects: Count
    studies: Count
    series: Count
    collections: list[CollectionCounts]


# Result models below are built with their validating constructors: pydantic-core validates
# these flat models faster than `model_construct` assigns them (measured: 1.7 vs 4.2 µs).


def _facet_cells(
    table: Table, kind: Kind, facet: Facet, index: int, groups: list[tuple[GroupCounts, Access]]
) -> list[Key]:
    """Add a facet's cells; returns the bucket keys (all values, or every bin). Exact and
    restricted parts are summed in plain dicts first: a facet can hold 40 groups of 1,000 values."""
    spec = FIELDS[facet.field]
    binned_and_single = isinstance(facet, HistogramFacet) and (
        spec.level in ROOT_FIELDS[kind] and not spec.multi
    )
    parts: tuple[dict[Value, int], dict[Value, int]] = ({}, {})
    missing, other = [0, 0], [0, 0]  # exact, restricted
    for group, access in groups:
        side = 0 if access is Access.RECORDS else 1
        counts = group.facets.get(facet.field)
        buckets = counts.buckets if counts else {}
        with_value = counts.with_value if counts else 0
        missing[side] += group.docs - with_value
        into = parts[side]
        for value, n in buckets.items():
            into[value] = into.get(value, 0) + n
        if binned_and_single:
            other[side] += with_value - sum(buckets.values())
    exact, restricted = parts
    values = exact.keys() | restricted.keys()
    for value in values:
        table.cells[("f", index, "b", value)] = Cell(exact.get(value, 0), restricted.get(value, 0))
    table.cells[("f", index, "missing")] = Cell(missing[0], missing[1])
    if binned_and_single:
        table.cells[("f", index, "other")] = Cell(other[0], other[1])
    if isinstance(facet, HistogramFacet):
        return [("f", index, "b", k) for k in range(facet.bins)]
    return [("f", index, "b", v) for v in values]


def facets(
    table: Table,
    kind: Kind,
    specs: Sequence[Facet],
    groups: list[tuple[GroupCounts, Access]],
    policy: Policy,
    total: Key,
) -> list[tuple[Facet, list[Key]]]:
    """Facet cells with primary suppression applied, truncated to `size` by visible counts,
    and their relation to the total registered. Returns each facet's shown bucket keys."""
    out = []
    for index, facet in enumerate(specs):
        keys = _facet_cells(table, kind, facet, index, groups)
        for key in keys:
            table.cell(key)
        policy.primary(table)
        shown = keys
        if not isinstance(facet, HistogramFacet):
            shown, rest = top(keys, table, facet.size)
            other = table.cell(("f", index, "other"))
            for key in rest:
                other.exact += table.cells[key].exact
                other.restricted += table.cells[key].restricted
            other.suppressed = 0 < other.restricted < policy.threshold
        members = [*shown, ("f", index, "missing")]
        if ("f", index, "other") in table.cells:
            members.append(("f", index, "other"))
        table.relations.append((total, members))
        out.append((facet, shown))
    return out


def facet_results(
    table: Table, built: list[tuple[Facet, list[Key]]], policy: Policy
) -> list[FacetResult]:
    results = []
    for index, (facet, shown) in enumerate(built):
        if isinstance(facet, HistogramFacet):
            edges = facet.edges()
            buckets = [
                Bucket(
                    value=k[3],
                    low=edges[k[3]],
                    high=edges[k[3] + 1],
                    count=policy.count(table.cells[k]),
                )
                for k in shown
            ]
        else:
            ordered, _ = top(shown, table, len(shown))
            buckets = [
                Bucket(value=k[3], low=None, high=None, count=policy.count(table.cells[k]))
                for k in ordered
            ]
        other = table.cells.get(("f", index, "other"))
        results.append(
            FacetResult(
                field=facet.field,
                type=facet.type,
                buckets=buckets,
                other=policy.count(other) if other is not None else None,
                missing=policy.count(table.cells[("f", index, "missing")]),
            )
        )
    return results


TOTALS: tuple[Key, Key, Key] = (("m", "subjects"), ("m", "studies"), ("m", "series"))
_Keys = tuple[Key, Key, Key]  # a collection's or site's cells: subjects, studies, series


@dataclass(frozen=True)
class SiteLayout:
    slug: str
    name: str
    keys: _Keys
    members: tuple[tuple[CollectionInfo, _Keys], ...]


@dataclass(frozen=True)
class Layout:
    """The fixed shape of a cohort answer over some collections: the cells of each collection
    and site, and the additive relations between them (total = Σ sites, site = Σ collections).
    The service keeps one per access answer: building the shape costs more than filling it."""

    collections: tuple[CollectionInfo, ...]
    sites: tuple[SiteLayout, ...]  # in order of first appearance, as the relations list them
    by_slug: tuple[SiteLayout, ...]
    relations: tuple[tuple[Key, list[Key]], ...]

    @classmethod
    def of(cls, colls: Sequence[CollectionInfo]) -> Layout:
        members: dict[str, list[CollectionInfo]] = {}
        for c in colls:
            members.setdefault(c.site, []).append(c)
        sites = tuple(
            SiteLayout(
                slug,
                cs[0].site_name,
                _keys("s", slug),
                tuple((c, _keys("c", c.id)) for c in cs),
            )
            for slug, cs in members.items()
        )
        relations: list[tuple[Key, list[Key]]] = []
        for i, total in enumerate(TOTALS):
            relations.append((total, [s.keys[i] for s in sites]))
            relations += [(s.keys[i], [keys[i] for _, keys in s.members]) for s in sites]
        by_slug = tuple(sorted(sites, key=lambda s: s.slug))
        return cls(tuple(colls), sites, by_slug, tuple(relations))


def _keys(level: str, name: str) -> _Keys:
    subjects, studies, series = (("m", m, level, name) for m in MEASURES)
    return subjects, studies, series


def hierarchy(table: Table, aggs: Aggregates, layout: Layout) -> None:
    """Cells for the total, each site and each collection, per measure, and their relations.
    Sums are taken here rather than through `Table.add`: this runs on every cohort answer."""
    cells, groups, empty = table.cells, aggs.groups, GroupCounts()
    totals = [Cell(), Cell(), Cell()]
    for site in layout.sites:
        exact, restricted = [0, 0, 0], [0, 0, 0]
        for c, keys in site.members:
            group = groups.get(c.id, empty)
            sums = group.sums
            values = (group.docs, sums.get(STUDY_COUNT, 0), sums.get(SERIES_COUNT, 0))
            into = exact if c.access is Access.RECORDS else restricted
            for i, value in enumerate(values):
                into[i] += value
                cells[keys[i]] = Cell(value, 0) if into is exact else Cell(0, value)
        for i, key in enumerate(site.keys):
            cells[key] = Cell(exact[i], restricted[i])
            totals[i].exact += exact[i]
            totals[i].restricted += restricted[i]
    for key, cell in zip(TOTALS, totals, strict=True):
        cells[key] = cell
    table.relations.extend(layout.relations)


def site_results(table: Table, layout: Layout, policy: Policy) -> list[SiteCounts]:
    cells, count = table.cells, policy.count
    return [
        SiteCounts(
            slug=site.slug,
            name=site.name,
            subjects=count(cells[site.keys[0]]),
            studies=count(cells[site.keys[1]]),
            series=count(cells[site.keys[2]]),
            collections=[
                CollectionCounts(
                    id=c.id,
                    title=c.title,
                    visibility=c.visibility,
                    subjects=count(cells[keys[0]]),
                    studies=count(cells[keys[1]]),
                    series=count(cells[keys[2]]),
                )
                for c, keys in site.members
            ],
        )
        for site in layout.by_slug
    ]
