"""Checked queries → SQLite SQL over the embedded index's tables (see `_sqlite_schema`).

Every value is a bound parameter; free text becomes quoted FTS5 terms made of letters and digits
only. Leaves may be NULL in SQL's three-valued logic; `NOT` coalesces its operand to false first,
which gives the engines' two-valued semantics (a missing value never matches, `NOT` matches it).
"""

# ruff: noqa: S608 - SQL text is built from registry identifiers only; every value is bound
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from catalogue.search._sqlite_schema import (
    ROLLED_FILTERS,
    ROLLUP_TABLES,
    TABLE,
    member,
    q,
    rollup,
)
from catalogue.search.backend import Scope
from catalogue.search.fields import FIELDS, Field, Kind, Level, tokens
from catalogue.search.query import (
    And,
    Concept,
    Exists,
    Filter,
    HasSeries,
    HasStudy,
    Not,
    Or,
    Range,
    Term,
    Terms,
    Text,
)

_OPS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}


def fts_match(text: str) -> str:
    """FTS5 query: every word, each a quoted term (words hold no quotes or operators)."""
    return " ".join(f'"{w}"' for w in tokens(text))


@dataclass
class Sql:
    """A SQL fragment under construction and its parameters, in order."""

    params: list[Any] = field(default_factory=list)
    aliases: int = 0

    def p(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def alias(self, prefix: str) -> str:
        self.aliases += 1
        return f"{prefix}{self.aliases}"


@dataclass(frozen=True)
class Frame:
    """Where each level's fields live in the current SQL scope: level → table alias."""

    kind: Kind
    aliases: dict[Level, str]
    node: str  # alias of the row the scope is about (text search, nesting)
    table: str  # its table

    def column(self, spec: Field) -> str:
        return f"{self.aliases[spec.level]}.{q(spec.name)}"


def root_frame(kind: Kind) -> Frame:
    """Aliases at the root: `a` is the kind's own row, `s` its subject (1:1 join)."""
    table = TABLE[kind]
    if kind == "subjects":
        return Frame(kind, {Level.COLLECTION: "a", Level.SUBJECT: "a"}, "a", table)
    if kind in {"studies", "series"}:
        own = {Level.STUDY: "a", Level.SERIES: "a"} if kind == "series" else {Level.STUDY: "a"}
        return Frame(kind, {Level.COLLECTION: "s", Level.SUBJECT: "s", **own}, "a", table)
    level = Level.DATASET if kind == "datasets" else Level.COLLECTION
    return Frame(kind, {level: "a"}, "a", table)


def root_from(kind: Kind) -> str:
    table = TABLE[kind]
    if kind in {"studies", "series"}:
        return f"{table} a JOIN subjects s ON s.rid = a.subject"
    return f"{table} a"


def scope_sql(kind: Kind, scope: Scope, sql: Sql, indexed: bool = True) -> str:
    """The scope's condition; `indexed=False` keeps SQLite from reaching the rows through the
    collection index (row by row, much slower than a scan when the scope holds most rows)."""
    frame = root_frame(kind)
    parts = []
    if scope.collections is not None and kind != "datasets":
        ids = sql.p(json.dumps(sorted(scope.collections)))
        alias = frame.aliases[Level.COLLECTION]
        plus = "" if indexed else "+"
        parts.append(f"{plus}{alias}.collection IN (SELECT value FROM json_each({ids}))")
    if scope.dataset_states is not None and kind == "datasets":
        states = json.dumps(sorted(scope.dataset_states))
        parts.append(f"a.state IN (SELECT value FROM json_each({sql.p(states)}))")
    return " AND ".join(parts) or "1"


def where(node: Filter, frame: Frame, sql: Sql) -> str:
    if isinstance(node, And):
        return "(" + " AND ".join(where(c, frame, sql) for c in node.all) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(where(c, frame, sql) for c in node.any) + ")"
    if isinstance(node, Not):
        return f"NOT coalesce({where(node.filter, frame, sql)}, 0)"
    if isinstance(node, HasStudy | HasSeries):
        return _has(node, frame, sql)
    if isinstance(node, Text):
        fts, words = f"{frame.table}_fts", sql.p(fts_match(node.text))
        return f"{frame.node}.rid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH {words})"
    return _leaf(node, frame, sql)


def _has(node: HasStudy | HasSeries, frame: Frame, sql: Sql) -> str:
    """A row below the current one satisfies the inner filter: a semi-join on its parent key,
    or, for one condition on a series keyword, the row's own set of its series' values."""
    rolled = _rolled_leaf(node, frame)
    if rolled is not None:
        return _leaf(rolled, frame, sql, f'{frame.node}."{rollup(_target(rolled))}"')
    if isinstance(node, HasStudy):
        alias = sql.alias("t")
        inner = Frame(frame.kind, {Level.STUDY: alias}, alias, "studies")
        link = "subject"
    else:
        alias = sql.alias("r")
        inner = Frame(frame.kind, {Level.STUDY: alias, Level.SERIES: alias}, alias, "series")
        link = "study" if frame.table == "studies" else "subject"
    body = where(node.where, inner, sql)
    return f"{frame.node}.rid IN (SELECT {alias}.{link} FROM {inner.table} {alias} WHERE {body})"


Leaf = Term | Terms | Range | Exists | Concept


def _target(node: Leaf) -> str:
    """The indexed field a leaf reads (a concept reads its closure or its concepts)."""
    if isinstance(node, Concept):
        return f"{node.field}_closure" if node.descendants else f"{node.field}_concept"
    return node.field


def _rolled_leaf(node: HasStudy | HasSeries, frame: Frame) -> Leaf | None:
    leaf = node.where
    if not isinstance(node, HasSeries) or frame.table not in ROLLUP_TABLES:
        return None
    if isinstance(leaf, Term | Terms | Exists | Concept) and _target(leaf) in ROLLED_FILTERS:
        return leaf
    return None


def _leaf(node: Leaf, frame: Frame, sql: Sql, rolled: str | None = None) -> str:
    """SQL for one condition; `rolled` names a set column of values below the row instead."""
    spec = FIELDS[_target(node)]
    column = rolled or frame.column(spec)
    multi = spec.multi or rolled is not None
    if isinstance(node, Concept):
        return f"{column} IN ({_sets_with(sql.p(node.iri))})"
    if isinstance(node, Exists):
        return f"{column} IS NOT NULL"
    if isinstance(node, Range):
        bounds = [
            (op, getattr(node, key)) for key, op in _OPS.items() if getattr(node, key) is not None
        ]
        return "(" + " AND ".join(f"{column} {op} {sql.p(v)}" for op, v in bounds) + ")"
    values = [node.value] if isinstance(node, Term) else list(node.values)
    if rolled is not None:
        values = [member(v) for v in values]
    if multi:
        if len(values) == 1:
            return f"{column} IN ({_sets_with(sql.p(values[0]))})"
        listed = f"SELECT value FROM json_each({sql.p(json.dumps(values))})"
        return f"{column} IN (SELECT set_id FROM members WHERE value IN ({listed}))"
    if len(values) == 1:
        return f"{column} = {sql.p(_plain(values[0]))}"
    return f"{column} IN (SELECT value FROM json_each({sql.p(json.dumps(values))}))"


def _sets_with(param: str) -> str:
    return f"SELECT set_id FROM members WHERE value = {param}"


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def matching(
    kind: Kind,
    filter: Filter | None,
    text: str | None,
    scope: Scope,
    sql: Sql,
    indexed_scope: bool = True,
) -> tuple[str, str]:
    """FROM and WHERE of the documents a query matches (free text joins the FTS table)."""
    source, conditions = root_from(kind), []
    if text:
        fts = f"{TABLE[kind]}_fts"
        source += f" JOIN {fts} ON {fts}.rowid = a.rid"
        conditions.append(f"{fts} MATCH {sql.p(fts_match(text))}")
    conditions.append(scope_sql(kind, scope, sql, indexed_scope))
    if filter is not None:
        conditions.append(where(filter, root_frame(kind), sql))
    return source, " AND ".join(conditions)
