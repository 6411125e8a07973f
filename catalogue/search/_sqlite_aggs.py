"""Facets and per-collection counts in the embedded index.

The matching documents go into a temporary table (rid, group) inside one read transaction, so
every count of an answer comes from the same snapshot. A facet on a field below the document
(a subject's series' modality) counts distinct documents, as Elasticsearch's `reverse_nested`
does; values per group are capped at `FACET_CAP`, most frequent first, then by value.
"""

# ruff: noqa: S608 - SQL text is built from registry identifiers only; every value is bound
from __future__ import annotations

import sqlite3
from typing import Any

from catalogue.search._sqlite_schema import ROLLED, ROLLUP_TABLES, TABLE, rollup
from catalogue.search._sqlite_sql import Sql, matching, root_frame
from catalogue.search.backend import (
    FACET_CAP,
    AggregateRequest,
    Aggregates,
    FacetCounts,
    GroupCounts,
)
from catalogue.search.fields import FIELDS, ROOT_FIELDS, Field, FieldType, Kind, Level
from catalogue.search.query import Facet, HistogramFacet

_CHILD = {  # (kind, level of a field below it) → join from the document row `a` to that row `c`
    ("subjects", Level.STUDY): "JOIN studies c ON c.subject = a.rid",
    ("subjects", Level.SERIES): "JOIN series c ON c.subject = a.rid",
    ("studies", Level.SERIES): "JOIN series c ON c.study = a.rid",
}


def aggregate(conn: sqlite3.Connection, request: AggregateRequest) -> Aggregates:
    sql = Sql()
    source, conditions = matching(request.kind, request.filter, request.text, request.scope, sql)
    group = _group_expr(request)
    conn.execute("BEGIN")
    try:
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS agg_m(rid INTEGER PRIMARY KEY, g TEXT NOT NULL)"
        )
        conn.execute("DELETE FROM temp.agg_m")
        conn.execute(
            f"INSERT INTO temp.agg_m SELECT a.rid, {group} FROM {source} WHERE {conditions}",
            sql.params,
        )
        groups = _docs_and_sums(conn, request)
        for facet in request.facets:
            found = _facet(conn, request.kind, facet)
            for key, counts in groups.items():
                counts.facets[facet.field] = found.get(key, FacetCounts())
    finally:
        conn.execute("COMMIT")
    return Aggregates(groups=groups)


def _group_expr(request: AggregateRequest) -> str:
    alias = root_frame(request.kind).aliases.get(Level.COLLECTION)
    return f"{alias}.collection" if request.by_collection and alias else "''"


def _joined(kind: Kind) -> str:
    """The matched documents joined to their rows (and their subject's row)."""
    subject = " JOIN subjects s ON s.rid = a.subject" if kind in {"studies", "series"} else ""
    return f"temp.agg_m m JOIN {TABLE[kind]} a ON a.rid = m.rid{subject}"


def _docs_and_sums(conn: sqlite3.Connection, request: AggregateRequest) -> dict[str, GroupCounts]:
    frame = root_frame(request.kind)
    sums = "".join(f", sum({frame.column(FIELDS[name])})" for name in request.sums)
    rows = conn.execute(f"SELECT m.g, count(*){sums} FROM {_joined(request.kind)} GROUP BY m.g")
    groups: dict[str, GroupCounts] = {}
    for key, docs, *totals in rows:
        values = {name: int(t or 0) for name, t in zip(request.sums, totals, strict=True)}
        groups[key] = GroupCounts(docs=docs, sums=values)
    return groups


def _facet(conn: sqlite3.Connection, kind: Kind, facet: Facet) -> dict[str, FacetCounts]:
    spec = FIELDS[facet.field]
    source, column, multi = _facet_source(kind, spec)
    value, condition, params = _bucket(facet, multi, column)
    joins = f" JOIN members mb ON mb.set_id = {column}" if multi else ""
    counted = (
        f"SELECT m.g AS g, {value} AS v, count(DISTINCT a.rid) AS n FROM {source}{joins}"
        f" WHERE {condition} GROUP BY 1, 2"
    )
    ranked = (
        f"SELECT g, v, n FROM (SELECT g, v, n, row_number() OVER"
        f" (PARTITION BY g ORDER BY n DESC, v ASC) AS rk FROM ({counted})) WHERE rk <= {FACET_CAP}"
    )
    out: dict[str, FacetCounts] = {}
    for g, v, n in conn.execute(ranked, params):
        out.setdefault(g, FacetCounts()).buckets[_key(spec, v)] = n
    having = (
        f"SELECT m.g, count(DISTINCT a.rid) FROM {source} WHERE {column} IS NOT NULL GROUP BY 1"
    )
    for g, n in conn.execute(having):
        out.setdefault(g, FacetCounts()).with_value = n
    return out


def _facet_source(kind: Kind, spec: Field) -> tuple[str, str, bool]:
    """FROM clause reaching the field, the column expression, and whether it names a set."""
    if spec.level in ROOT_FIELDS[kind]:
        return _joined(kind), root_frame(kind).column(spec), spec.multi
    if spec.name in ROLLED and TABLE[kind] in ROLLUP_TABLES:
        return _joined(kind), f'a."{rollup(spec.name)}"', True
    return f"{_joined(kind)} {_CHILD[(kind, spec.level)]}", f'c."{spec.name}"', spec.multi


def _bucket(facet: Facet, multi: bool, column: str) -> tuple[str, str, list[Any]]:
    """The bucket expression, the row condition and their parameters (in textual order).
    A histogram bin k holds `edges[k] <= value < edges[k + 1]` (`HistogramFacet.edges`), as the
    Elasticsearch range aggregation does."""
    if isinstance(facet, HistogramFacet):
        low, step = facet.min, facet.interval
        guess = f"CAST(({column} - ?) / ? AS INTEGER)"
        # floating point may put the guess one bin off: correct it against the edges
        fixed = f"{guess} - ({column} < ? + {guess} * ?) + ({column} >= ? + ({guess} + 1) * ?)"
        bucket = f"min(max({fixed}, 0), ?)"
        params = [low, step, low, low, step, step, low, low, step, step, facet.bins - 1]
        return bucket, f"{column} >= ? AND {column} < ?", [*params, facet.min, facet.max]
    return ("mb.value" if multi else column), f"{column} IS NOT NULL", []


def _key(spec: Field, value: Any) -> Any:
    if spec.type is FieldType.BOOLEAN:  # 0 / 1 in a column, "false" / "true" in a set
        return value in (1, "true")
    return value
