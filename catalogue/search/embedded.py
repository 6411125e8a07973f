"""The embedded backend: SQLite FTS5 and SQL in a file of its own under the data directory.

Why its own file, even when the store is SQLite: the index is derived data (delete it and rebuild
at will); its writes never contend with harvest writes for the store's single SQLite writer; it
works unchanged beside a PostgreSQL store; and a rebuild fills a new file and swaps a pointer —
the same no-downtime swap Elasticsearch gets from aliases.

`<dir>/current` names the live file. Each thread keeps a connection and reopens it when the pointer
changes, so searches move to a rebuilt index at their next call.
"""

# ruff: noqa: S608 - SQL text is built from registry identifiers only; every value is bound
from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from catalogue.errors import SearchUnavailableError
from catalogue.search import _sqlite_aggs
from catalogue.search._sqlite_schema import SCHEMA_VERSION, TABLE, ddl, indexes
from catalogue.search._sqlite_sql import Sql, matching, root_frame
from catalogue.search._sqlite_write import SetCache, Writer
from catalogue.search.backend import (
    AggregateRequest,
    Aggregates,
    Hit,
    IndexInfo,
    IndexWriter,
    Page,
    Scope,
    SearchRequest,
)
from catalogue.search.documents import DocRef, Document
from catalogue.search.fields import FIELDS, Kind, Level
from catalogue.search.query import SCORE, Filter

POINTER = "current"
_T = TypeVar("_T")


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._local = threading.local()
        self._sets: dict[str, SetCache] = {}
        self._set_values: dict[str, _sqlite_aggs.SetValues] = {}
        self._lock = threading.Lock()

    # -- files and connections --------------------------------------------------------------------
    def _live_name(self) -> str | None:
        try:
            return (self.directory / POINTER).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _conn(self, retry: bool = True) -> tuple[sqlite3.Connection, str]:
        name = self._live_name()
        if name is None:
            self.ensure()
            name = self._live_name()
            assert name is not None
        held: tuple[str, sqlite3.Connection] | None = getattr(self._local, "held", None)
        if held is not None and held[0] == name:
            return held[1], name
        if held is not None:
            held[1].close()
        self._local.held = None
        try:
            conn = _open(self.directory / name, create=False)
        except sqlite3.OperationalError as exc:
            if retry:  # swapped away between reading the pointer and opening: read it again
                return self._conn(retry=False)
            raise SearchUnavailableError(f"the embedded index cannot be opened: {exc}") from None
        self._local.held = (name, conn)
        return conn, name

    def _writer(self) -> Writer:
        conn, name = self._conn()
        with self._lock:
            sets = self._sets.setdefault(name, SetCache())
        return Writer(conn, sets)

    def ensure(self) -> None:
        with self._lock:
            if self._live_name() is not None:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            name = self._create()
            _point(self.directory, name)

    def _create(self) -> str:
        name = f"index-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}.db"
        conn = _open(self.directory / name, create=True)
        try:
            for statement in [*ddl(), *indexes()]:
                conn.execute(statement)
            conn.execute("INSERT INTO meta(key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,))
        finally:
            conn.close()
        return name

    # -- writes -----------------------------------------------------------------------------------
    def index(self, docs: Sequence[Document]) -> None:
        _guard(lambda: self._writer().index(docs))

    def delete(self, refs: Sequence[DocRef]) -> None:
        _guard(lambda: self._writer().delete(refs))

    def refresh(self) -> None:
        """Committed writes are visible at once."""

    def rebuild(self, fill: Callable[[IndexWriter], None]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = self._create()
        conn = _open(self.directory / name, create=False)
        try:
            fill(Writer(conn, SetCache()))
            conn.execute("ANALYZE")
        except BaseException:
            conn.close()
            _remove(self.directory, name)
            raise
        conn.close()
        old = self._live_name()
        _point(self.directory, name)
        if old and old != name:
            _remove(self.directory, old)

    # -- reads ------------------------------------------------------------------------------------
    def search(self, request: SearchRequest) -> Page:
        statement, params, width = search_sql(request)
        conn, _ = self._conn()
        rows = _guard(lambda: conn.execute(statement, params).fetchall())
        total = None
        if request.count_total:
            total = self.count(request.kind, request.filter, request.text, request.scope)
        hits = [Hit(request.kind, *r[:5]) for r in rows[: request.size]]
        more = request.size > 0 and len(rows) > request.size
        after = list(rows[request.size - 1][5 : 5 + width]) if more else None
        return Page(hits=hits, total=total, after=after)

    def count(self, kind: Kind, filter: Filter | None, text: str | None, scope: Scope) -> int:
        sql = Sql()
        source, conditions = matching(kind, filter, text, scope, sql)
        statement = f"SELECT count(*) FROM {source} WHERE {conditions}"
        conn, _ = self._conn()
        return int(_guard(lambda: conn.execute(statement, sql.params).fetchone()[0]))

    def aggregate(self, request: AggregateRequest) -> Aggregates:
        conn, name = self._conn()
        with self._lock:
            sets = self._set_values.setdefault(name, _sqlite_aggs.SetValues())
        return _guard(lambda: _sqlite_aggs.aggregate(conn, request, sets))

    def info(self) -> IndexInfo:
        conn, name = self._conn()
        counts: dict[str, int] = {
            k: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
            for k, t in TABLE.items()
        }
        size = sum(p.stat().st_size for p in self.directory.glob(f"{name}*") if p.is_file())
        return IndexInfo(
            backend=self.name, name=str(self.directory / name), documents=counts, size_bytes=size
        )

    def outdated(self) -> bool:
        name = self._live_name()
        if name is None:
            return False
        try:
            conn = sqlite3.connect(f"file:{self.directory / name}?mode=ro", uri=True)
        except sqlite3.OperationalError:
            return False  # swapped away meanwhile: the new file is this version's
        try:
            return _schema(conn) != SCHEMA_VERSION
        finally:
            conn.close()

    def close(self) -> None:
        held = getattr(self._local, "held", None)
        if held is not None:
            held[1].close()
            self._local.held = None


# -- SQL for hits ----------------------------------------------------------------------------------
def search_sql(request: SearchRequest) -> tuple[str, list[Any], int]:
    """The statement for one page (size + 1 rows, to know whether another page follows), its
    parameters, and how many sort values make a position."""
    sql, kind = Sql(), request.kind
    source, conditions = matching(kind, request.filter, request.text, request.scope, sql)
    frame = root_frame(kind)
    keys: list[tuple[str, bool]] = []  # (expression, descending)
    for sort in request.sort:
        expr = (
            f"-bm25({TABLE[kind]}_fts)" if sort.field == SCORE else frame.column(FIELDS[sort.field])
        )
        keys.append((expr, sort.order == "desc"))
    group = frame.aliases.get(Level.COLLECTION)
    coll = f"{group}.collection, {group}.site" if group else "NULL, NULL"
    score = f"-bm25({TABLE[kind]}_fts)" if request.text else "NULL"
    picked = "".join(f"{e} AS k{i}, " for i, (e, _) in enumerate(keys))
    inner = (
        f"SELECT a.id, a.iri, {coll}, {score} AS score, {picked}a.id AS kid"
        f" FROM {source} WHERE {conditions}"
    )
    named = [(f"k{i}", desc) for i, (_, desc) in enumerate(keys)]
    after = _after(named, request.after, sql) if request.after is not None else "1"
    order = ", ".join(f"({k} IS NULL), {k} {'DESC' if d else 'ASC'}" for k, d in named)
    statement = (
        f"SELECT * FROM ({inner}) WHERE {after} ORDER BY {order + ', ' if order else ''}kid"
        f" LIMIT {sql.p(request.size + 1)}"
    )
    return statement, sql.params, len(keys) + 1


def _after(keys: list[tuple[str, bool]], values: list[Any], sql: Sql) -> str:
    """Rows strictly after `values` in the order (key..., id), missing values sorting last.
    Built left to right so placeholders and parameters stay in the same order."""
    if not keys:
        return f"kid > {sql.p(values[-1])}"
    (key, desc), value = keys[0], values[0]
    if value is None:
        return f"({key} IS NULL AND {_after(keys[1:], values[1:], sql)})"
    beyond = f"({key} {'<' if desc else '>'} {sql.p(value)} OR {key} IS NULL)"
    return f"({beyond} OR ({key} = {sql.p(value)} AND {_after(keys[1:], values[1:], sql)}))"


def _open(path: Path, create: bool) -> sqlite3.Connection:
    mode = "rwc" if create else "rw"
    conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if not create and _schema(conn) != SCHEMA_VERSION:
        conn.close()
        raise SearchUnavailableError(
            "the embedded index was built by another version: run `catalogue index rebuild`"
        )
    return conn


def _schema(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    except sqlite3.OperationalError:  # not an index file of ours
        return None
    return None if row is None else str(row[0])


def _remove(directory: Path, name: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        (directory / f"{name}{suffix}").unlink(missing_ok=True)


def _point(directory: Path, name: str) -> None:
    """Make `name` the live index: write the pointer beside it, then rename over the old one."""
    tmp = directory / f".{POINTER}.{secrets.token_hex(4)}"
    tmp.write_text(name)
    os.replace(tmp, directory / POINTER)


def _guard(call: Callable[[], _T]) -> _T:
    try:
        return call()
    except sqlite3.OperationalError as exc:
        raise SearchUnavailableError(f"the embedded index cannot be read: {exc}") from None
