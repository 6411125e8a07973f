"""The change log behind the change feed; records already stored are logged once, parents first.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 06:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from catalogue.models.base import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLISHED = ("collection", "subject", "imaging_study", "series")  # parents first


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
    )
    op.create_index(
        "ix_change_log_entity", "change_log", ["entity_type", "entity_id", "seq"], unique=False
    )
    for table in PUBLISHED:  # names from the constant above, never from input
        op.execute(
            f"INSERT INTO change_log (entity_type, entity_id, changed_at)"  # noqa: S608
            f" SELECT '{table}', id, updated_at FROM {table} ORDER BY updated_at, id"
        )


def downgrade() -> None:
    op.drop_index("ix_change_log_entity", table_name="change_log")
    op.drop_table("change_log")
