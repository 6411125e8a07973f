"""Access control: grants, API keys of platform clients, revoked tokens, the audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from catalogue.models.base import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32, create_constraint=False)


def upgrade() -> None:
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column(
            "principal_kind", _enum("user", "group", "client", name="principalkind"), nullable=False
        ),
        sa.Column("principal", sa.String(length=255), nullable=False),
        sa.Column("level", _enum("records", "counts", name="grantlevel"), nullable=False),
        sa.Column("granted_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["collection.id"],
            name=op.f("fk_access_grant_collection_id_collection"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant")),
        sa.UniqueConstraint(
            "collection_id",
            "principal_kind",
            "principal",
            name=op.f("uq_access_grant_collection_id_principal_kind_principal"),
        ),
    )
    op.create_index(op.f("ix_access_grant_collection_id"), "access_grant", ["collection_id"])
    op.create_index(op.f("ix_access_grant_principal"), "access_grant", ["principal"])
    op.create_table(
        "api_key",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=512), nullable=False),
        sa.Column("scopes", sa.String(length=512), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
    )
    op.create_index(op.f("ix_api_key_client"), "api_key", ["client"])
    op.create_table(
        "revoked_token",
        sa.Column("jti", sa.String(length=255), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_token")),
    )
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("query", sa.String(), nullable=False),
        sa.Column("collections", sa.String(), nullable=False),
        sa.Column("result_size", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    op.create_index(op.f("ix_audit_entry_at"), "audit_entry", ["at"])
    op.create_index(op.f("ix_audit_entry_subject"), "audit_entry", ["subject"])


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("revoked_token")
    op.drop_table("api_key")
    op.drop_table("access_grant")
