"""The catalogue store: one engine, units of work, migrations, and an in-transaction outbox.

SQLite (WAL) under the data directory by default; PostgreSQL through `CATALOGUE_DATABASE_URL`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, select

from catalogue.errors import ConfigurationError, StoreUnavailableError
from catalogue.models import (
    INDEXED,
    PUBLISHED,
    ChangeEntry,
    Entity,
    OutboxEntry,
    OutboxOp,
    Site,
    utcnow,
)
from catalogue.settings import redact_url

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


class Store:
    """Owns the engine. `with store.session() as s:` is one unit of work: commit or roll back.

    The models declare foreign keys but no ORM relationships (records are read by explicit
    queries), so a unit of work that adds a parent and its children flushes the parent first.
    """

    def __init__(self, url: str, base_iri: str) -> None:
        self.url = normalise_url(url)
        self.base_iri = base_iri.rstrip("/")
        self.engine = _create_engine(self.url)
        self._minted = _IriMinter(self.base_iri)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return redact_url(self.url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            event.listen(session, "before_flush", self._minted.before_flush)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> None:
        """Raise `StoreUnavailableError` unless the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except SQLAlchemyError as exc:
            cause = type(getattr(exc, "orig", None) or exc).__name__
            raise StoreUnavailableError(
                f"database {self.display_url} is unreachable: {cause}"
            ) from None

    # -- migrations (alembic is imported on use: it costs a second at start-up) ---------------
    def _alembic(self) -> AlembicConfig:
        from alembic.config import Config as AlembicConfig

        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        from alembic import command

        command.upgrade(self._alembic(), revision)

    def downgrade(self, revision: str = "base") -> None:
        from alembic import command

        command.downgrade(self._alembic(), revision)

    def current_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def head_revision(self) -> str | None:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic()).get_current_head()

    def is_current(self) -> bool:
        return self.current_revision() == self.head_revision()

    def ensure_site(self, slug: str, name: str) -> Site:
        """The site this node harvests for, created on first use."""
        with self.session() as session:
            site = session.exec(select(Site).where(Site.slug == slug)).first()
            if site is None:
                site = Site(slug=slug, name=name)
                session.add(site)
            return site

    def dispose(self) -> None:
        self.engine.dispose()


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver for them."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise ConfigurationError("CATALOGUE_DATABASE_URL is not a database URL") from None
    if parsed.drivername in {"postgres", "postgresql"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
        )
    return parsed.render_as_string(hide_password=False)


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class _IriMinter:
    """Before each flush: mint IRIs for new entities and queue outbox rows for indexed ones."""

    def __init__(self, base_iri: str) -> None:
        self.base_iri = base_iri

    def iri(self, entity: Entity) -> str:
        return f"{self.base_iri}/id/{type(entity).__tablename__}/{entity.id}"

    def before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        changes: list[OutboxEntry] = []
        for obj in session.new:
            if isinstance(obj, Entity):
                obj.id = obj.id or uuid.uuid4()
                obj.iri = obj.iri or self.iri(obj)
            changes += _outbox(obj, OutboxOp.UPSERT)
        for obj in session.dirty:
            if session.is_modified(obj, include_collections=False):
                if isinstance(obj, Entity):
                    obj.updated_at = utcnow()
                changes += _outbox(obj, OutboxOp.UPSERT)
        for obj in session.deleted:
            changes += _outbox(obj, OutboxOp.DELETE)
        logged = [
            ChangeEntry(entity_type=kind, entity_id=obj.id)
            for obj in (*session.new, *session.dirty, *session.deleted)
            if (kind := PUBLISHED.get(type(obj))) is not None
            and (obj in session.new or obj in session.deleted or session.is_modified(obj))
        ]
        if logged and session.get_bind().dialect.name == "postgresql":
            # the change feed promises commit order: writers of the log take turns, so a change
            # numbered lower than one a reader has seen can never commit after it
            session.connection().execute(
                sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOG_LOCK}
            )
        session.add_all([*changes, *logged])


#: Advisory lock key serialising writers of the change log (PostgreSQL); the indexer uses another.
LOG_LOCK = 0x63_61_74_6C_6F_67  # "catlog"


def _outbox(obj: Any, op: OutboxOp) -> list[OutboxEntry]:
    kind = INDEXED.get(type(obj))
    if kind is None:
        return []
    return [OutboxEntry(entity_type=kind, entity_id=obj.id, op=op)]
