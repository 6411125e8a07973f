"""initial catalogue schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 02:17:45.611508
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import catalogue.models.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coded_value",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("original_value", sa.String(length=1024), nullable=False),
        sa.Column("concept_iri", sa.String(length=512), nullable=True),
        sa.Column("scheme", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("label", sa.String(length=512), nullable=True),
        sa.Column(
            "method",
            sa.Enum(
                "exact-code",
                "label",
                "rule",
                "mapping-table",
                "curator",
                "unmapped",
                name="mappingmethod",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("ancestors", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coded_value")),
        sa.UniqueConstraint("iri", name=op.f("uq_coded_value_iri")),
    )
    with op.batch_alter_table("coded_value", schema=None) as batch_op:
        batch_op.create_index("ix_coded_value_concept", ["concept_iri"], unique=False)
        batch_op.create_index("ix_coded_value_entity", ["entity_type", "entity_id"], unique=False)
        batch_op.create_index(
            "ix_coded_value_field_original", ["field", "original_value"], unique=False
        )

    op.create_table(
        "dataset",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "reserved",
                "registered",
                "findable",
                "hidden",
                name="doistate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("concept_doi", sa.String(length=255), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
        sa.UniqueConstraint("concept_doi", name=op.f("uq_dataset_concept_doi")),
        sa.UniqueConstraint("iri", name=op.f("uq_dataset_iri")),
        sa.UniqueConstraint("slug", name=op.f("uq_dataset_slug")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column(
            "op",
            sa.Enum("upsert", "delete", name="outboxop", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("homepage", sa.String(length=512), nullable=True),
        sa.Column("ror_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
        sa.UniqueConstraint("iri", name=op.f("uq_site_iri")),
        sa.UniqueConstraint("slug", name=op.f("uq_site_slug")),
    )
    op.create_table(
        "dataset_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "reserved",
                "registered",
                "findable",
                "hidden",
                name="doistate",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("published_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("harvest_runs", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_version_dataset_id_dataset")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_version")),
        sa.UniqueConstraint(
            "dataset_id", "version", name=op.f("uq_dataset_version_dataset_id_version")
        ),
        sa.UniqueConstraint("doi", name=op.f("uq_dataset_version_doi")),
        sa.UniqueConstraint("iri", name=op.f("uq_dataset_version_iri")),
    )
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dataset_version_dataset_id"), ["dataset_id"], unique=False
        )

    op.create_table(
        "source",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=63), nullable=False),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("bookmark", sa.JSON(), nullable=True),
        sa.Column("bookmark_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_source_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source")),
        sa.UniqueConstraint("iri", name=op.f("uq_source_iri")),
        sa.UniqueConstraint("name", name=op.f("uq_source_name")),
    )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_site_id"), ["site_id"], unique=False)

    op.create_table(
        "harvest_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("started_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("finished_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "running",
                "succeeded",
                "partial",
                "failed",
                name="runstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("cursor_from", sa.JSON(), nullable=True),
        sa.Column("cursor_to", sa.JSON(), nullable=True),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_harvest_run_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_run")),
        sa.UniqueConstraint("iri", name=op.f("uq_harvest_run_iri")),
    )
    with op.batch_alter_table("harvest_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harvest_run_source_id"), ["source_id"], unique=False)

    op.create_table(
        "collection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("native_id", sa.String(length=512), nullable=False),
        sa.Column("first_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("last_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("first_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deidentification_profile", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.Column("site_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column(
            "visibility",
            sa.Enum(
                "public",
                "registered",
                "aggregate",
                "private",
                name="visibility",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("access_url", sa.String(length=2048), nullable=True),
        sa.ForeignKeyConstraint(
            ["first_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_collection_first_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_collection_last_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_collection_site_id_site")),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_collection_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collection")),
        sa.UniqueConstraint("iri", name=op.f("uq_collection_iri")),
        sa.UniqueConstraint(
            "source_id", "native_id", name=op.f("uq_collection_source_id_native_id")
        ),
    )
    with op.batch_alter_table("collection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_collection_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_collection_source_id"), ["source_id"], unique=False)

    op.create_table(
        "subject",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("native_id", sa.String(length=512), nullable=False),
        sa.Column("first_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("last_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("first_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deidentification_profile", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column(
            "sex",
            sa.Enum("female", "male", "other", "unknown", name="sex", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("group", sa.String(length=255), nullable=True),
        sa.Column("strain", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"], ["collection.id"], name=op.f("fk_subject_collection_id_collection")
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_subject_first_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_subject_last_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_subject_source_id_source")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject")),
        sa.UniqueConstraint("iri", name=op.f("uq_subject_iri")),
        sa.UniqueConstraint("source_id", "native_id", name=op.f("uq_subject_source_id_native_id")),
    )
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_collection_id"), ["collection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_subject_source_id"), ["source_id"], unique=False)

    op.create_table(
        "imaging_study",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("native_id", sa.String(length=512), nullable=False),
        sa.Column("first_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("last_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("first_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deidentification_profile", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("age_years", sa.Float(), nullable=True),
        sa.Column("access_url", sa.String(length=2048), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collection.id"],
            name=op.f("fk_imaging_study_collection_id_collection"),
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_imaging_study_first_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_imaging_study_last_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_imaging_study_source_id_source")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_imaging_study_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imaging_study")),
        sa.UniqueConstraint("iri", name=op.f("uq_imaging_study_iri")),
        sa.UniqueConstraint(
            "source_id", "native_id", name=op.f("uq_imaging_study_source_id_native_id")
        ),
    )
    with op.batch_alter_table("imaging_study", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_imaging_study_collection_id"), ["collection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_imaging_study_source_id"), ["source_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_imaging_study_subject_id"), ["subject_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_imaging_study_year"), ["year"], unique=False)

    op.create_table(
        "series",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("iri", sa.String(length=512), nullable=True),
        sa.Column("created_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("native_id", sa.String(length=512), nullable=False),
        sa.Column("first_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("last_seen_run_id", sa.Uuid(), nullable=True),
        sa.Column("first_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", catalogue.models.base.UTCDateTime(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deidentification_profile", sa.String(length=64), nullable=True),
        sa.Column("deleted_at", catalogue.models.base.UTCDateTime(), nullable=True),
        sa.Column("study_id", sa.Uuid(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("modality", sa.String(length=16), nullable=True),
        sa.Column("body_part", sa.String(length=255), nullable=True),
        sa.Column("series_description", sa.String(length=1024), nullable=True),
        sa.Column("protocol_name", sa.String(length=1024), nullable=True),
        sa.Column("sequence_name", sa.String(length=255), nullable=True),
        sa.Column("contrast_agent", sa.Boolean(), nullable=True),
        sa.Column("manufacturer", sa.String(length=255), nullable=True),
        sa.Column("model_name", sa.String(length=255), nullable=True),
        sa.Column("field_strength_t", sa.Float(), nullable=True),
        sa.Column("slice_thickness_mm", sa.Float(), nullable=True),
        sa.Column("repetition_time_ms", sa.Float(), nullable=True),
        sa.Column("echo_time_ms", sa.Float(), nullable=True),
        sa.Column("inversion_time_ms", sa.Float(), nullable=True),
        sa.Column("flip_angle_deg", sa.Float(), nullable=True),
        sa.Column("image_type", sa.JSON(), nullable=False),
        sa.Column("sop_class_uids", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.Boolean(), nullable=False),
        sa.Column("instance_count", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("access_url", sa.String(length=2048), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"], ["collection.id"], name=op.f("fk_series_collection_id_collection")
        ),
        sa.ForeignKeyConstraint(
            ["first_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_series_first_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["last_seen_run_id"],
            ["harvest_run.id"],
            name=op.f("fk_series_last_seen_run_id_harvest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["source.id"], name=op.f("fk_series_source_id_source")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["imaging_study.id"], name=op.f("fk_series_study_id_imaging_study")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["subject.id"], name=op.f("fk_series_subject_id_subject")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("iri", name=op.f("uq_series_iri")),
        sa.UniqueConstraint("source_id", "native_id", name=op.f("uq_series_source_id_native_id")),
    )
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_series_collection_id"), ["collection_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_series_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_series_study_id"), ["study_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_series_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_series_year"), ["year"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_series_year"))
        batch_op.drop_index(batch_op.f("ix_series_subject_id"))
        batch_op.drop_index(batch_op.f("ix_series_study_id"))
        batch_op.drop_index(batch_op.f("ix_series_source_id"))
        batch_op.drop_index(batch_op.f("ix_series_collection_id"))

    op.drop_table("series")
    with op.batch_alter_table("imaging_study", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imaging_study_year"))
        batch_op.drop_index(batch_op.f("ix_imaging_study_subject_id"))
        batch_op.drop_index(batch_op.f("ix_imaging_study_source_id"))
        batch_op.drop_index(batch_op.f("ix_imaging_study_collection_id"))

    op.drop_table("imaging_study")
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_source_id"))
        batch_op.drop_index(batch_op.f("ix_subject_collection_id"))

    op.drop_table("subject")
    with op.batch_alter_table("collection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collection_source_id"))
        batch_op.drop_index(batch_op.f("ix_collection_site_id"))

    op.drop_table("collection")
    with op.batch_alter_table("harvest_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harvest_run_source_id"))

    op.drop_table("harvest_run")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_site_id"))

    op.drop_table("source")
    with op.batch_alter_table("dataset_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_version_dataset_id"))

    op.drop_table("dataset_version")
    op.drop_table("site")
    op.drop_table("outbox")
    op.drop_table("dataset")
    with op.batch_alter_table("coded_value", schema=None) as batch_op:
        batch_op.drop_index("ix_coded_value_field_original")
        batch_op.drop_index("ix_coded_value_entity")
        batch_op.drop_index("ix_coded_value_concept")

    op.drop_table("coded_value")
