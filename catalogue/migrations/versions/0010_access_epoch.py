"""Access epoch: a counter triggers move on every write that can change collection access.

Grants (any write), collections (insert, delete, or a change of title, visibility, site or
deletion) and sites (delete, or a change of slug or name) move it, so a cache of access answers
keyed by it is never stale, whichever process or statement wrote. SQLite drops a table's
triggers when a batch migration recreates the table: such a migration must create them again
(`tests/catalogue/test_access_cache.py` fails otherwise).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (columns whose change matters, whether inserts matter)
WATCHED: dict[str, tuple[tuple[str, ...], bool]] = {
    "access_grant": (
        ("collection_id", "principal_kind", "principal", "level", "expires_at"),
        True,
    ),
    "collection": (("title", "visibility", "site_id", "deleted_at"), True),
    "site": (("slug", "name"), False),
}
BUMP = "UPDATE access_epoch SET n = n + 1"


def upgrade() -> None:
    op.create_table(
        "access_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_epoch")),
    )
    op.execute("INSERT INTO access_epoch (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION access_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
    for table, (columns, inserts) in WATCHED.items():
        for name, event, when in _triggers(columns, inserts):
            op.execute(_create(f"access_epoch_{table}_{name}", table, event, when))


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, (columns, inserts) in WATCHED.items():
        for name, _, _ in _triggers(columns, inserts):
            on = f" ON {table}" if postgres else ""
            op.execute(f"DROP TRIGGER access_epoch_{table}_{name}{on}")
    if postgres:
        op.execute("DROP FUNCTION access_epoch_bump()")
    op.drop_table("access_epoch")


def _triggers(columns: tuple[str, ...], inserts: bool) -> list[tuple[str, str, str | None]]:
    """(name, event, row condition) of each trigger one table needs."""
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
    found = [("update", "UPDATE", changed), ("delete", "DELETE", None)]
    return [("insert", "INSERT", None), *found] if inserts else found


def _create(name: str, table: str, event: str, when: str | None) -> str:
    if op.get_bind().dialect.name == "postgresql":
        condition = f" WHEN ({when})" if when else ""
        return (
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} "
            "EXECUTE FUNCTION access_epoch_bump()"
        )
    condition = f" WHEN {when.replace('IS DISTINCT FROM', 'IS NOT')}" if when else ""
    return f"CREATE TRIGGER {name} AFTER {event} ON {table}{condition} BEGIN {BUMP}; END"
