"""Writing documents into the embedded index (one SQLite connection, one transaction per call).

A subject document carries its studies and series nested, so indexing it replaces the subject's
rows and all rows below it; study and series documents are skipped (their rows came with their
subject). Deleting a row deletes the rows below it and the FTS rows of each.
"""

# ruff: noqa: S608 - SQL text is built from registry identifiers only; every value is bound
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from catalogue.search._sqlite_schema import (
    LEVELS,
    PARENTS,
    ROLLUP_TABLES,
    columns,
    keyed,
    member,
    q,
    rolled,
    rollup,
)
from catalogue.search.documents import DocRef, Document


class SetCache:
    """Interned value sets: the key of a set → its id. Sets are never deleted, so committed
    entries stay valid for the life of an index file (a rebuild starts a new file and cache);
    a writer's new sets join the shared cache only when its transaction commits."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}


class _Sets:
    def __init__(self, shared: SetCache) -> None:
        self.shared, self.pending = shared, dict[str, int]()

    def id(self, conn: sqlite3.Connection, field: str, values: Sequence[str]) -> int | None:
        if not values:
            return None
        key = field + "\x1f" + "\x1e".join(values)
        found = self.shared.ids.get(key) or self.pending.get(key)
        if found is None:
            row = conn.execute("SELECT id FROM sets WHERE key = ?", (key,)).fetchone()
            if row is None:
                found = conn.execute(
                    "INSERT INTO sets(key) VALUES (?) RETURNING id", (key,)
                ).fetchone()[0]
                conn.executemany(
                    "INSERT OR IGNORE INTO members(value, set_id) VALUES (?, ?)",
                    [(v, found) for v in values],
                )
            else:
                found = row[0]
            self.pending[key] = int(found)
        return found

    def commit(self) -> None:
        self.shared.ids.update(self.pending)
        self.pending.clear()


class Writer:
    def __init__(self, conn: sqlite3.Connection, sets: SetCache) -> None:
        self.conn, self.sets = conn, _Sets(sets)
        self._insert = {t: _insert_sql(t) for t in LEVELS}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.rollback()
            self.sets.pending.clear()
            raise
        self.conn.commit()
        self.sets.commit()

    def index(self, docs: Sequence[Document]) -> None:
        with self.transaction():
            for doc in docs:
                if doc.kind in {"collections", "datasets"}:
                    self._upsert(doc.kind, doc.body)
            self._subjects([d for d in docs if d.kind == "subjects"])

    def delete(self, refs: Sequence[DocRef]) -> None:
        with self.transaction():
            for kind, ids in _by_kind(refs).items():
                listed = json.dumps(ids)
                if kind == "subjects":
                    self._drop_below(
                        "subject", f"SELECT rid FROM subjects WHERE id IN {_each()}", listed
                    )
                elif kind == "studies":
                    self._drop(
                        "series",
                        f"study IN (SELECT rid FROM studies WHERE id IN {_each()})",
                        listed,
                    )
                self._drop(kind, f"id IN {_each()}", listed)

    # -- internals ------------------------------------------------------------------------------
    def _row(self, table: str, body: dict[str, Any]) -> list[Any]:
        row: list[Any] = [body["id"], body.get("iri")]
        for spec in columns(table):
            value = body.get(spec.name)
            if spec.multi:
                value = self.sets.id(self.conn, spec.name, value or [])
            elif isinstance(value, bool):
                value = int(value)
            row.append(value)
        if table in ROLLUP_TABLES:
            series = _series_below(table, body)
            for name in rolled(table):
                values = {member(v) for se in series for v in _as_list(se.get(name))}
                row.append(self.sets.id(self.conn, name, sorted(values)))  # shared with series
        for name in keyed(table):
            row.append(self.sets.id(self.conn, name, _as_list(body.get("collection"))))
        return row

    def _upsert(self, table: str, body: dict[str, Any]) -> int:
        rid = int(self.conn.execute(self._insert[table], self._row(table, body)).fetchone()[0])
        self.conn.execute(f"DELETE FROM {table}_fts WHERE rowid = ?", (rid,))
        self.conn.execute(
            f"INSERT INTO {table}_fts(rowid, text) VALUES (?, ?)", (rid, body["text"])
        )
        return rid

    def _subjects(self, docs: list[Document]) -> None:
        if not docs:
            return
        rids = [self._upsert("subjects", d.body) for d in docs]
        studies = [st for d in docs for st in d.body["studies"]]
        series = [se for st in studies for se in st["series"]]
        self._drop_below("subject", "SELECT value FROM json_each(?)", json.dumps(rids))
        self._drop("series", f"id IN {_each()}", json.dumps([se["id"] for se in series]))
        self._drop("studies", f"id IN {_each()}", json.dumps([st["id"] for st in studies]))
        next_study, next_series = self._next_rid("studies"), self._next_rid("series")
        study_rows: list[list[Any]] = []
        series_rows: list[list[Any]] = []
        texts: dict[str, list[tuple[int, str]]] = {"studies": [], "series": []}
        for subject_rid, doc in zip(rids, docs, strict=True):
            for study in doc.body["studies"]:
                study_rows.append([next_study, subject_rid, *self._row("studies", study)])
                texts["studies"].append((next_study, study["text"]))
                for se in study["series"]:
                    series_rows.append(
                        [next_series, subject_rid, next_study, *self._row("series", se)]
                    )
                    texts["series"].append((next_series, se["text"]))
                    next_series += 1
                next_study += 1
        self._bulk("studies", study_rows, texts["studies"])
        self._bulk("series", series_rows, texts["series"])

    def _bulk(self, table: str, rows: list[list[Any]], texts: list[tuple[int, str]]) -> None:
        names = ["rid", *PARENTS[table], "id", "iri", *_column_names(table)]
        marks = ", ".join("?" * len(names))
        self.conn.executemany(f"INSERT INTO {table}({', '.join(names)}) VALUES ({marks})", rows)
        self.conn.executemany(f"INSERT INTO {table}_fts(rowid, text) VALUES (?, ?)", texts)

    def _next_rid(self, table: str) -> int:
        return int(
            self.conn.execute(f"SELECT coalesce(max(rid), 0) + 1 FROM {table}").fetchone()[0]
        )

    def _drop_below(self, parent: str, rids: str, param: str) -> None:
        """Rows whose `parent` column is one of the rids the subquery yields, in both tables."""
        for table in ("series", "studies"):
            self._drop(table, f"{parent} IN ({rids})", param)

    def _drop(self, table: str, condition: str, param: str) -> None:
        self.conn.execute(
            f"DELETE FROM {table}_fts WHERE rowid IN (SELECT rid FROM {table} WHERE {condition})",
            (param,),
        )
        self.conn.execute(f"DELETE FROM {table} WHERE {condition}", (param,))


def _series_below(table: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    if table == "studies":
        return list(body["series"])
    return [se for study in body["studies"] for se in study["series"]]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _each() -> str:
    return "(SELECT value FROM json_each(?))"


def _by_kind(refs: Sequence[DocRef]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, id_ in refs:
        out.setdefault(kind, []).append(id_)
    return out


def _column_names(table: str) -> list[str]:
    own = [q(f.name) for f in columns(table)]
    return [*own, *(q(rollup(n)) for n in rolled(table)), *map(q, keyed(table))]


def _insert_sql(table: str) -> str:
    names = ["id", "iri", *_column_names(table)]
    updates = ", ".join(f"{n} = excluded.{n}" for n in names[1:])
    marks = ", ".join("?" * len(names))
    return (
        f"INSERT INTO {table}({', '.join(names)}) VALUES ({marks}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates} RETURNING rid"
    )
