"""Saved cohorts: a person's named cohort queries, private to their owner.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalogue.models.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "saved_cohort",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("url_state", sa.String(length=4096), nullable=False),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_cohort")),
        sa.UniqueConstraint("owner", "name", name=op.f("uq_saved_cohort_owner_name")),
    )


def downgrade() -> None:
    op.drop_table("saved_cohort")
