"""Datasets harvested from partner catalogues: provenance, the partner's identifier and page.

Every new column is nullable (or defaults), so our own curated datasets carry none of them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalogue.models.base

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    utc = catalogue.models.base.UTCDateTime
    with op.batch_alter_table("dataset") as batch_op:
        batch_op.add_column(sa.Column("identifier", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("landing_page", sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column("source_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("native_id", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("first_seen_run_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("last_seen_run_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("first_seen_at", utc(), nullable=True))
        batch_op.add_column(sa.Column("last_seen_at", utc(), nullable=True))
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("missing_runs", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("deleted_at", utc(), nullable=True))
        batch_op.create_index(batch_op.f("ix_dataset_source_id"), ["source_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_source_id_source"), "source", ["source_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_first_seen_run_id_harvest_run"),
            "harvest_run",
            ["first_seen_run_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_dataset_last_seen_run_id_harvest_run"),
            "harvest_run",
            ["last_seen_run_id"],
            ["id"],
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_dataset_source_id_native_id"), ["source_id", "native_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("dataset") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_dataset_source_id_native_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("fk_dataset_last_seen_run_id_harvest_run"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_dataset_first_seen_run_id_harvest_run"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_dataset_source_id_source"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_dataset_source_id"))
        for column in (
            "deleted_at",
            "missing_runs",
            "content_hash",
            "last_seen_at",
            "first_seen_at",
            "last_seen_run_id",
            "first_seen_run_id",
            "native_id",
            "source_id",
            "landing_page",
            "identifier",
        ):
            batch_op.drop_column(column)
