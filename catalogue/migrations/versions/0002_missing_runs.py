"""Count the consecutive complete harvest runs that did not see a record.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:31:20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HARVESTED = ("collection", "subject", "imaging_study", "series")


def upgrade() -> None:
    for table in HARVESTED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("missing_runs", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    for table in reversed(HARVESTED):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("missing_runs")
