"""One indexer at a time per store, across processes (the server's loop, `catalogue index`).

Two drainers could apply an older state of a record after a newer one; a rebuild must not race
a drain that would delete outbox entries the new index has not seen. PostgreSQL stores use a
session advisory lock; SQLite stores an exclusive `flock` on a file beside the database.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from catalogue.store import Store

_ADVISORY_KEY = 0x63617461_6C6F6775  # "catalogu"
_PROCESS_LOCK = threading.Lock()  # in-memory SQLite: one process only
_POLL_S = 0.2


@contextmanager
def indexer_lock(store: Store, wait_s: float = 0.0) -> Iterator[bool]:
    """Yield whether the lock was taken within `wait_s` seconds (0: try once)."""
    if store.dialect == "postgresql":
        with _advisory(store, wait_s) as got:
            yield got
        return
    database = make_url(store.url).database
    if not database or database == ":memory:":
        got = _PROCESS_LOCK.acquire(timeout=wait_s) if wait_s > 0 else _PROCESS_LOCK.acquire(False)
        try:
            yield got
        finally:
            if got:
                _PROCESS_LOCK.release()
        return
    with _flock(Path(database + ".indexer.lock"), wait_s) as got:
        yield got


@contextmanager
def _advisory(store: Store, wait_s: float) -> Iterator[bool]:
    with store.engine.connect() as conn:
        deadline = time.monotonic() + wait_s
        try_lock = sa.text("SELECT pg_try_advisory_lock(:key)")
        got = bool(conn.execute(try_lock, {"key": _ADVISORY_KEY}).scalar())
        while not got and time.monotonic() < deadline:
            time.sleep(_POLL_S)
            got = bool(conn.execute(try_lock, {"key": _ADVISORY_KEY}).scalar())
        conn.commit()  # the lock is the session's, not the transaction's
        try:
            yield got
        finally:
            if got:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": _ADVISORY_KEY})
                conn.commit()


@contextmanager
def _flock(path: Path, wait_s: float) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    got = False
                    break
                time.sleep(_POLL_S)
        try:
            yield got
        finally:
            if got:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
