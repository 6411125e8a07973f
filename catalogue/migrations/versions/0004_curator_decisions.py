"""Curator decisions: a field value's concept as a curator accepted or overrode it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalogue.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "curator_decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("original_value", sa.String(length=1024), nullable=False),
        sa.Column("concept_iri", sa.String(length=512), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("note", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curator_decision")),
        sa.UniqueConstraint(
            "field", "original_value", name=op.f("uq_curator_decision_field_original_value")
        ),
        sa.UniqueConstraint("iri", name=op.f("uq_curator_decision_iri")),
    )


def downgrade() -> None:
    op.drop_table("curator_decision")
