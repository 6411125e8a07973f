"""Migrations from the first table on, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from catalogue.models import metadata
from catalogue.store import Store


def _tables(store: Store) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_down_and_up_again(empty_store: Store) -> None:
    assert empty_store.current_revision() is None
    empty_store.upgrade()
    assert empty_store.is_current()
    assert _tables(empty_store) == set(metadata.tables)
    empty_store.downgrade("base")
    assert _tables(empty_store) == set()
    empty_store.upgrade()
    assert empty_store.is_current()


def test_models_and_migrations_agree(store: Store) -> None:
    """Fails when a model changes without a migration."""
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
