"""What publishing keeps beside a dataset: its cohort snapshots, curation fields, DOI tasks."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field

from catalogue.models.base import Entity, created_at, enum_field, optional_time


class CohortSnapshot(Entity, table=True):
    """What one dataset version contained when it was frozen: the query or explicit selection,
    the moment, members of aggregate-only collections as counts per site (never records), and
    the datasheet's raw cells (suppressed when shown)."""

    __tablename__ = "cohort_snapshot"

    version_id: uuid.UUID = Field(foreign_key="dataset_version.id", unique=True)
    query: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    selection: list[str] = Field(default_factory=list, sa_type=JSON)  # IRIs asked for
    frozen_at: datetime = created_at()
    counted: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    datasheet: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class DatasetCuration(Entity, table=True):
    """Curation of one of our datasets that DataCite has no field for: access conditions per
    site, custom fields (annotations that never alter harvested records), and the tombstone."""

    __tablename__ = "dataset_curation"

    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", unique=True)
    access_conditions: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    custom_fields: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    tombstoned_at: datetime | None = optional_time()
    tombstone_reason: str | None = Field(default=None, max_length=1024)


class DoiAction(enum.StrEnum):
    RESERVE = "reserve"  # a draft DOI at the registrar: shown, not public
    REGISTER = "register"  # resolvable, not in the registrar's search
    PUBLISH = "publish"  # findable
    UPDATE = "update"  # push edited metadata
    HIDE = "hide"  # findable → registered
    DELETE = "delete"  # a draft DOI only; registered ones are hidden instead


class DoiTaskStatus(enum.StrEnum):
    PENDING = "pending"
    FAILED = "failed"  # kept on the dataset with its error until a retry succeeds
    DONE = "done"


class DoiTask(Entity, table=True):
    """One call to the DOI provider. Failures stay here, visible on the dataset, until retried."""

    __tablename__ = "doi_task"

    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", index=True)
    version_id: uuid.UUID | None = Field(default=None, foreign_key="dataset_version.id")
    doi: str = Field(max_length=255)
    action: DoiAction = enum_field(DoiAction)
    status: DoiTaskStatus = enum_field(DoiTaskStatus, DoiTaskStatus.PENDING)
    attempts: int = 0
    error: str | None = Field(default=None, max_length=2048)
    error_details: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    retriable: bool = True
    done_at: datetime | None = optional_time()
