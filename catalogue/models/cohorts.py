"""Saved cohorts: a person's named cohort queries, private to their owner."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from catalogue.models.base import created_at, updated_at


class SavedCohort(SQLModel, table=True):
    """No IRI: a saved cohort is nobody's business but its owner's (the identity's subject).
    Saving under a name the owner already used replaces that cohort."""

    __tablename__ = "saved_cohort"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    owner: str = Field(max_length=255)
    name: str = Field(max_length=120)
    query: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # a CohortInput, as sent
    url_state: str = Field(default="", max_length=4096)  # the page's query string: its criteria
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()
