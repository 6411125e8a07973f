"""Facets and per-collection counts in the embedded index.

The matching documents go into a temporary table (rid, group, summed fields, values of the
requested facets on the document's own row) inside one read transaction, so every count of an
answer comes from the same snapshot. A facet on a field below the document
(a subject's series' modality) counts distinct documents, as Elasticsearch's `reverse_nested`
does; values per group are capped at `FACET_CAP`, most frequent first, then by value.

Counting is shaped by what SQLite does fast (grouping on one integer or short column) and slow
(a temporary B-tree per distinct row):
- a field of the document itself, single-valued or a set, is one GROUP BY of that table;
  a set's count goes to each of its values in Python (values are distinct within a set, so each
  document is counted once per value);
- a histogram on a field below the document gathers each document's bins as a bit mask
  (`sum(DISTINCT 1 << bin)`) while reading its rows in document order, then counts masks;
- any other field below the document goes through distinct (group, document, value) rows.
"""

# ruff: noqa: S608 - SQL text is built from registry identifiers only; every value is bound
from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from catalogue.search._sqlite_schema import GROUP_KEY, ROLLED, ROLLUP_TABLES, TABLE, rollup
from catalogue.search._sqlite_sql import Sql, matching, root_frame
from catalogue.search.backend import (
    FACET_CAP,
    AggregateRequest,
    Aggregates,
    FacetCounts,
    GroupCounts,
)
from catalogue.search.fields import FIELDS, ROOT_FIELDS, Field, FieldType, Kind, Level
from catalogue.search.query import MAX_FACETS, Facet, HistogramFacet

Group = int | str  # a collection's key (subject rows) or id, or '' when not grouped
SUMS = 2  # summed fields a request may ask for (study_count, series_count)
MASK_BINS = 62  # bins a mask holds in a signed 64-bit integer
# A scope holding more than this share of the collections is checked row by row during a scan:
# reaching most rows through the collection index costs more than reading them all.
SCAN_SHARE = 0.25
_CHILD = {  # (kind, level of a field below it) → (table of the rows below, their parent column)
    ("subjects", Level.STUDY): ("studies", "subject"),
    ("subjects", Level.SERIES): ("series", "subject"),
    ("studies", Level.SERIES): ("series", "study"),
}


class SetValues:
    """Values of interned sets, read on first use: a set never changes once written, so entries
    stay valid for the life of an index file (a rebuild starts a new file and cache)."""

    def __init__(self) -> None:
        self._values: dict[int, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def of(self, conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, tuple[str, ...]]:
        missing = sorted({i for i in ids if i not in self._values})
        if missing:
            found: dict[int, list[str]] = {i: [] for i in missing}
            rows = conn.execute(
                "SELECT set_id, value FROM members"
                " WHERE set_id IN (SELECT value FROM json_each(?))",
                (json.dumps(missing),),
            )
            for set_id, value in rows:
                found[set_id].append(value)
            with self._lock:
                self._values.update((i, tuple(v)) for i, v in found.items())
        return self._values


def aggregate(conn: sqlite3.Connection, request: AggregateRequest, sets: SetValues) -> Aggregates:
    sql = Sql()
    source, conditions = matching(
        request.kind,
        request.filter,
        request.text,
        request.scope,
        sql,
        indexed_scope=_index_scope(conn, request),
    )
    group = _group_expr(request)
    frame = root_frame(request.kind)
    # Summed fields and the values of facets on the document's own row ride along in the
    # temporary table: totals and those facets need no second read of the rows.
    sums = [frame.column(FIELDS[n]) for n in request.sums] + ["NULL"] * (SUMS - len(request.sums))
    owned = [_own_column(request.kind, FIELDS[f.field]) for f in request.facets]
    carried = [o[0] if o else "NULL" for o in owned] + ["NULL"] * (MAX_FACETS - len(owned))
    conn.execute("BEGIN")
    try:
        slots = ", ".join([f"s{i}" for i in range(SUMS)] + [f"f{i}" for i in range(MAX_FACETS)])
        conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS agg_m(rid INTEGER PRIMARY KEY, g NOT NULL, {slots})"
        )
        conn.execute("DELETE FROM temp.agg_m")
        conn.execute(
            f"INSERT INTO temp.agg_m SELECT a.rid, {group}, {', '.join(sums + carried)}"
            f" FROM {source} WHERE {conditions}",
            sql.params,
        )
        groups = _docs_and_sums(conn, request)
        for i, (facet, own) in enumerate(zip(request.facets, owned, strict=True)):
            if own is not None:
                found = _own_facet(conn, facet, f"f{i}", own[1], sets)
            else:
                found = _child_facet(conn, request.kind, facet)
            for key, counts in groups.items():
                counts.facets[facet.field] = found.get(key, FacetCounts())
    finally:
        conn.execute("COMMIT")
    return Aggregates(groups=_named(conn, groups, sets))


def _index_scope(conn: sqlite3.Connection, request: AggregateRequest) -> bool:
    scope = request.scope.collections
    if scope is None:
        return True
    (known,) = conn.execute("SELECT count(*) FROM collections").fetchone()
    return len(scope) <= SCAN_SHARE * int(known)


def _group_expr(request: AggregateRequest) -> str:
    """The group of a matched row: its collection's key (a set id) on subject rows, its
    collection's id elsewhere, or '' when counts are not per collection."""
    frame = root_frame(request.kind)
    alias = frame.aliases.get(Level.COLLECTION)
    if not request.by_collection or alias is None:
        return "''"
    if frame.aliases.get(Level.SUBJECT) == alias:  # a subject row
        return f"coalesce({alias}.{GROUP_KEY}, {alias}.collection)"
    return f"{alias}.collection"


def _named(
    conn: sqlite3.Connection, groups: dict[Group, GroupCounts], sets: SetValues
) -> dict[str, GroupCounts]:
    """Groups by collection id (a set id names a set of that one id)."""
    members = sets.of(conn, (g for g in groups if isinstance(g, int)))
    return {(members[g][0] if isinstance(g, int) else g): c for g, c in groups.items()}


def _docs_and_sums(conn: sqlite3.Connection, request: AggregateRequest) -> dict[Group, GroupCounts]:
    sums = "".join(f", sum(s{i})" for i in range(len(request.sums)))
    rows = conn.execute(f"SELECT g, count(*){sums} FROM temp.agg_m GROUP BY g")
    groups: dict[Group, GroupCounts] = {}
    for key, docs, *totals in rows:
        values = {name: int(t or 0) for name, t in zip(request.sums, totals, strict=True)}
        groups[key] = GroupCounts(docs=docs, sums=values)
    return groups


def _own_column(kind: Kind, spec: Field) -> tuple[str, bool] | None:
    """The column of the document's own row holding a field (whether it names a set), if any."""
    if spec.level in ROOT_FIELDS[kind]:
        return root_frame(kind).column(spec), spec.multi
    if spec.name in ROLLED and TABLE[kind] in ROLLUP_TABLES:
        return f'a."{rollup(spec.name)}"', True
    return None


def _child_facet(conn: sqlite3.Connection, kind: Kind, facet: Facet) -> dict[Group, FacetCounts]:
    spec = FIELDS[facet.field]
    child, parent = _CHILD[(kind, spec.level)]
    if isinstance(facet, HistogramFacet) and facet.bins <= MASK_BINS:
        return _masked_histogram(conn, facet, f'c."{spec.name}"', child, parent)
    return _distinct_facet(conn, kind, facet, f'c."{spec.name}"')


def _own_facet(
    conn: sqlite3.Connection, facet: Facet, slot: str, is_set: bool, sets: SetValues
) -> dict[Group, FacetCounts]:
    """A field of the matched rows, carried in `slot`: counts per (group, value or set), then
    per value."""
    spec = FIELDS[facet.field]
    value, params = (slot, []) if is_set else _bucket(facet, False, slot)
    rows = conn.execute(
        f"SELECT g, {value}, count(*) FROM temp.agg_m WHERE {slot} IS NOT NULL GROUP BY 1, 2",
        params,
    ).fetchall()
    if is_set:
        members = sets.of(conn, (v for _, v, _ in rows))
        return _tally(spec, rows, lambda v: _set_buckets(facet, spec, members[v]))
    return _tally(spec, rows, lambda v: () if v is None else (v,))


def _masked_histogram(
    conn: sqlite3.Connection, facet: HistogramFacet, column: str, child: str, parent: str
) -> dict[Group, FacetCounts]:
    """Bins of the rows below each matched document as a bit mask, read in document order (the
    CROSS JOIN keeps the matched documents outermost, so no temporary B-tree sorts them).
    Documents without a value are dropped after grouping: an `IS NOT NULL` on the rows would
    keep SQLite from answering out of a covering index."""
    value, params = _bucket(facet, False, column)
    rows = conn.execute(
        f"SELECT g, mask, count(*) FROM (SELECT m.g AS g, sum(DISTINCT 1 << ({value})) AS mask,"
        f" count({column}) AS known FROM temp.agg_m m CROSS JOIN {child} c"
        f" ON c.{parent} = m.rid GROUP BY m.rid) WHERE known > 0 GROUP BY 1, 2",
        params,
    )
    return _tally(FIELDS[facet.field], rows, _bits)


def _distinct_facet(
    conn: sqlite3.Connection, kind: Kind, facet: Facet, column: str
) -> dict[Group, FacetCounts]:
    """Any other field below the documents: distinct (group, document, bucket) rows into a
    temporary table, then buckets and documents-with-a-value from it."""
    spec = FIELDS[facet.field]
    child, parent = _CHILD[(kind, spec.level)]
    value, params = _bucket(facet, spec.multi, column)
    joins = f" JOIN members mb ON mb.set_id = {column}" if spec.multi else ""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS agg_f(g, rid INTEGER, v)")
    conn.execute("DELETE FROM temp.agg_f")
    conn.execute(
        f"INSERT INTO temp.agg_f SELECT DISTINCT m.g, m.rid, {value} FROM temp.agg_m m"
        f" JOIN {child} c ON c.{parent} = m.rid{joins} WHERE {column} IS NOT NULL",
        params,
    )
    rows = conn.execute("SELECT g, v, count(*) FROM temp.agg_f WHERE v IS NOT NULL GROUP BY 1, 2")
    counted: dict[Group, Counter[Any]] = {}
    for g, v, n in rows:
        counted.setdefault(g, Counter())[v] = n
    known = conn.execute("SELECT g, count(DISTINCT rid) FROM temp.agg_f GROUP BY g")
    return {g: _capped(spec, counted.get(g, Counter()), n) for g, n in known}


def _tally(
    spec: Field, rows: Iterable[tuple[Group, Any, int]], keys: Callable[[Any], Iterable[Any]]
) -> dict[Group, FacetCounts]:
    """Facet counts from (group, x, documents) rows, each document counted in every key of x
    and once among those with a value."""
    counted: dict[Group, Counter[Any]] = {}
    with_value: Counter[Group] = Counter()
    for g, x, n in rows:
        with_value[g] += n
        bucket = counted.setdefault(g, Counter())
        for key in keys(x):
            bucket[key] += n
    return {g: _capped(spec, counted.get(g, Counter()), with_value[g]) for g in with_value}


def _bits(mask: int | None) -> list[int]:
    """The bins a mask holds, lowest first."""
    return [k for k, b in enumerate(bin(mask or 0)[:1:-1]) if b == "1"]


def _set_buckets(facet: Facet, spec: Field, values: tuple[str, ...]) -> set[Any]:
    """The buckets a set's values fall in, each once."""
    if not isinstance(facet, HistogramFacet):
        return {_key(spec, v) for v in values}
    edges = facet.edges()
    bins = {bisect.bisect_right(edges, float(v)) - 1 for v in values}
    return {k for k in bins if 0 <= k < facet.bins}


def _capped(spec: Field, counted: Counter[Any], with_value: int) -> FacetCounts:
    """The `FACET_CAP` most frequent values, then by value (as the SQL of the other paths)."""
    top = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_CAP]
    return FacetCounts(buckets={_key(spec, v): n for v, n in top}, with_value=with_value)


def _bucket(facet: Facet, multi: bool, column: str) -> tuple[str, list[Any]]:
    """The bucket of a row (NULL outside a histogram's range) and its parameters, in order.
    A histogram bin k holds `edges[k] <= value < edges[k + 1]` (`HistogramFacet.edges`), as the
    Elasticsearch range aggregation does: the value is compared with exactly those doubles, by
    halving (a few comparisons a row, cheaper than arithmetic that must then be corrected)."""
    if not isinstance(facet, HistogramFacet):
        return ("mb.value" if multi else column), []
    edges, params = facet.edges(), list[Any]()

    def within(low: int, high: int) -> str:  # the bin among low..high-1
        if high - low == 1:
            return str(low)
        middle = (low + high) // 2
        params.append(edges[middle])
        return f"CASE WHEN {column} < ? THEN {within(low, middle)} ELSE {within(middle, high)} END"

    chosen = within(0, facet.bins)  # fills `params` first: they follow the range's two
    bucket = f"CASE WHEN {column} >= ? AND {column} < ? THEN {chosen} END"
    return bucket, [edges[0], edges[-1], *params]


def _key(spec: Field, value: Any) -> Any:
    """A value as the field's type: sets hold text ("true", "3.0")."""
    if spec.type is FieldType.BOOLEAN:  # 0 / 1 in a column, "false" / "true" in a set
        return value in (1, "true")
    if isinstance(value, str) and spec.type is FieldType.INTEGER:
        return int(value)
    if isinstance(value, str) and spec.type is FieldType.FLOAT:
        return float(value)
    return value
