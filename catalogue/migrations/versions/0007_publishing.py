"""Publishing: cohort snapshots of dataset versions, dataset curation (access conditions,
custom fields, tombstones) and DOI tasks (provider calls, failures kept until retried).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 05:52:16
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalogue.models.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dataset_curation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("access_conditions", sa.JSON(), nullable=False),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("tombstoned_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.Column("tombstone_reason", sa.String(length=1024), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_curation_dataset_id_dataset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_curation")),
        sa.UniqueConstraint("dataset_id", name=op.f("uq_dataset_curation_dataset_id")),
        sa.UniqueConstraint("iri", name=op.f("uq_dataset_curation_iri")),
    )
    op.create_table(
        "cohort_snapshot",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=True),
        sa.Column("selection", sa.JSON(), nullable=False),
        sa.Column("frozen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("counted", sa.JSON(), nullable=False),
        sa.Column("datasheet", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_cohort_snapshot_version_id_dataset_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_snapshot")),
        sa.UniqueConstraint("iri", name=op.f("uq_cohort_snapshot_iri")),
        sa.UniqueConstraint("version_id", name=op.f("uq_cohort_snapshot_version_id")),
    )
    op.create_table(
        "doi_task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=True),
        sa.Column("doi", sa.String(length=255), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "reserve",
                "register",
                "publish",
                "update",
                "hide",
                "delete",
                name="doiaction",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "failed", "done", name="doitaskstatus", native_enum=False, length=32
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=2048), nullable=True),
        sa.Column("error_details", sa.JSON(), nullable=False),
        sa.Column("retriable", sa.Boolean(), nullable=False),
        sa.Column("done_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_doi_task_dataset_id_dataset")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["dataset_version.id"],
            name=op.f("fk_doi_task_version_id_dataset_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doi_task")),
        sa.UniqueConstraint("iri", name=op.f("uq_doi_task_iri")),
    )
    with op.batch_alter_table("doi_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_doi_task_dataset_id"), ["dataset_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("doi_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_doi_task_dataset_id"))

    op.drop_table("doi_task")
    op.drop_table("cohort_snapshot")
    op.drop_table("dataset_curation")
