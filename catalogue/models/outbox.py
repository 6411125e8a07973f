"""The outbox: index changes written in the same transaction as the records they describe.

The indexer drains it in id order; a search outage never fails or loses a catalogue write.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel

from catalogue.models.base import created_at, enum_field


class OutboxOp(enum.StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


class OutboxEntry(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=32)
    entity_id: uuid.UUID
    op: OutboxOp = enum_field(OutboxOp)
    created_at: datetime = created_at()
