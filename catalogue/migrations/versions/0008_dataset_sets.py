"""Dataset sets: the OAI-PMH sets (sites and public collections) each dataset belongs to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_set",
        sa.Column("spec", sa.String(length=128), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_set_dataset_id_dataset")
        ),
        sa.PrimaryKeyConstraint("spec", "dataset_id", name=op.f("pk_dataset_set")),
    )
    with op.batch_alter_table("dataset_set") as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_set_dataset_id"), ["dataset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dataset_set") as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_set_dataset_id"))
    op.drop_table("dataset_set")
