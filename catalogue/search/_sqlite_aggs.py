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

SUMS = 2  # summed fields a request may ask for (study_count, series_count)
_CHILD = {  # (kind, level of a field below it) → join from the document row `a` to that row `c`
    ("subjects", Level.STUDY): "JOIN studies c ON c.subject = a.rid",
    ("subjects", Level.SERIES): "JOIN series c ON c.subject = a.rid",
    ("studies", Level.SERIES): "JOIN series c ON c.study = a.rid",
}


def aggregate(conn: sqlite3.Connection, request: AggregateRequest) -> Aggregates:
    sql = Sql()
    source, conditions = matching(request.kind, request.filter, request.text, request.scope, sql)
    group = _group_expr(request)
    frame = root_frame(request.kind)
    # the summed fields ride along in the temporary table: totals need no join afterwards
    sums = [frame.column(FIELDS[n]) for n in request.sums] + ["NULL"] * (SUMS - len(request.sums))
    conn.execute("BEGIN")
    try:
        slots = ", ".join(f"s{i}" for i in range(SUMS))
        table = f"agg_m(rid INTEGER PRIMARY KEY, g TEXT NOT NULL, {slots})"
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table}")
        conn.execute("DELETE FROM temp.agg_m")
        conn.execute(
            f"INSERT INTO temp.agg_m SELECT a.rid, {group}, {', '.join(sums)}"
            f" FROM {source} WHERE {conditions}",
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
    sums = "".join(f", sum(s{i})" for i in range(len(request.sums)))
    rows = conn.execute(f"SELECT g, count(*){sums} FROM temp.agg_m GROUP BY g")
    groups: dict[str, GroupCounts] = {}
    for key, docs, *totals in rows:
        values = {name: int(t or 0) for name, t in zip(request.sums, totals, strict=True)}
        groups[key] = GroupCounts(docs=docs, sums=values)
    return groups


def _facet(conn: sqlite3.Connection, kind: Kind, facet: Facet) -> dict[str, FacetCounts]:
    """One pass over the rows below the documents: distinct (group, document, bucket) into a
    temporary table, then buckets and documents-with-a-value from it."""
    spec = FIELDS[facet.field]
    source, column, multi, below = _facet_source(kind, spec)
    value, params = _bucket(facet, multi, column)
    joins = f" JOIN members mb ON mb.set_id = {column}" if multi else ""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS agg_f(g TEXT, rid INTEGER, v)")
    conn.execute("DELETE FROM temp.agg_f")
    # rows below a document repeat (document, value) pairs; a document's own row or set does not
    distinct = "DISTINCT" if below else ""
    conn.execute(
        f"INSERT INTO temp.agg_f SELECT {distinct} m.g, a.rid, {value} FROM {source}{joins}"
        f" WHERE {column} IS NOT NULL",
        params,
    )
    ranked = (
        "SELECT g, v, n FROM (SELECT g, v, n, row_number() OVER"
        " (PARTITION BY g ORDER BY n DESC, v ASC) AS rk FROM (SELECT g, v, count(*) AS n"
        f" FROM temp.agg_f WHERE v IS NOT NULL GROUP BY g, v)) WHERE rk <= {FACET_CAP}"
    )
    out: dict[str, FacetCounts] = {}
    for g, v, n in conn.execute(ranked):
        out.setdefault(g, FacetCounts()).buckets[_key(spec, v)] = n
    for g, n in conn.execute("SELECT g, count(DISTINCT rid) FROM temp.agg_f GROUP BY g"):
        out.setdefault(g, FacetCounts()).with_value = n
    return out


def _facet_source(kind: Kind, spec: Field) -> tuple[str, str, bool, bool]:
    """FROM clause reaching the field, the column expression, whether it names a set, and
    whether it reads rows below the documents."""
    if spec.level in ROOT_FIELDS[kind]:
        return _joined(kind), root_frame(kind).column(spec), spec.multi, False
    if spec.name in ROLLED and TABLE[kind] in ROLLUP_TABLES:
        return _joined(kind), f'a."{rollup(spec.name)}"', True, False
    child = _CHILD[(kind, spec.level)]
    return f"{_joined(kind)} {child}", f'c."{spec.name}"', spec.multi, True


def _bucket(facet: Facet, multi: bool, column: str) -> tuple[str, list[Any]]:
    """The bucket of a row (NULL outside a histogram's range) and its parameters, in order.
    A histogram bin k holds `edges[k] <= value < edges[k + 1]` (`HistogramFacet.edges`), as the
    Elasticsearch range aggregation does."""
    if isinstance(facet, HistogramFacet):
        low, step = facet.min, facet.interval
        guess = f"CAST(({column} - ?) / ? AS INTEGER)"
        # floating point may put the guess one bin off: correct it against the edges
        fixed = f"{guess} - ({column} < ? + {guess} * ?) + ({column} >= ? + ({guess} + 1) * ?)"
        bucket = f"CASE WHEN {column} >= ? AND {column} < ? THEN min(max({fixed}, 0), ?) END"
        fix = [low, step, low, low, step, step, low, low, step, step]
        return bucket, [facet.min, facet.max, *fix, facet.bins - 1]
    return ("mb.value" if multi else column), []


def _key(spec: Field, value: Any) -> Any:
    if spec.type is FieldType.BOOLEAN:  # 0 / 1 in a column, "false" / "true" in a set
        return value in (1, "true")
    return value
