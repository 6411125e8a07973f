"""The change log: every write to a published record, in commit order, for the change feed.

Unlike the outbox (drained by the indexer), entries stay: a peer reads the log from its cursor at
any time. Entries carry no payload; a reader gets each record as the store holds it now.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer
from sqlmodel import Field, SQLModel

from catalogue.models.base import created_at


class ChangeEntry(SQLModel, table=True):
    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_entity", "entity_type", "entity_id", "seq"),)

    # BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite: an autoincrementing key either way
    seq: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    entity_type: str = Field(max_length=32)
    entity_id: uuid.UUID
    changed_at: datetime = created_at()
