"""Curated, citable datasets and their versions (each version may carry its own DOI)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from catalogue.models.base import Entity, enum_field, optional_time


class DoiState(enum.StrEnum):
    DRAFT = "draft"
    RESERVED = "reserved"  # DOI shown, not public
    REGISTERED = "registered"
    FINDABLE = "findable"
    HIDDEN = "hidden"


class Dataset(Entity, table=True):
    """A curated selection of records; `concept_doi` names all its versions at once.

    A dataset harvested from a partner catalogue (OAI-PMH, DCAT) carries the provenance columns
    of harvested records and the partner's own `identifier` and `landing_page`, as given; our
    own curated datasets have `source_id` None and none of them.
    """

    __table_args__ = (UniqueConstraint("source_id", "native_id"),)

    slug: str = Field(unique=True, max_length=128)
    title: str = Field(max_length=1024)
    description: str = ""
    state: DoiState = enum_field(DoiState, DoiState.DRAFT)
    concept_doi: str | None = Field(default=None, unique=True, max_length=255)
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # DataCite-shaped metadata
    query: dict[str, Any] | None = Field(default=None, sa_type=JSON)  # a frozen cohort query
    # -- harvested from a partner catalogue (all None for our own datasets) -------------------
    identifier: str | None = Field(default=None, max_length=512)  # the partner's, e.g. a DOI
    landing_page: str | None = Field(default=None, max_length=2048)
    source_id: uuid.UUID | None = Field(default=None, foreign_key="source.id", index=True)
    native_id: str | None = Field(default=None, max_length=512)
    first_seen_run_id: uuid.UUID | None = Field(default=None, foreign_key="harvest_run.id")
    last_seen_run_id: uuid.UUID | None = Field(default=None, foreign_key="harvest_run.id")
    first_seen_at: datetime | None = optional_time()
    last_seen_at: datetime | None = optional_time()
    content_hash: str | None = Field(default=None, max_length=64)
    missing_runs: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    deleted_at: datetime | None = optional_time()


class DatasetVersion(Entity, table=True):
    """One published state of a dataset: its metadata, members and the runs they came from."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", index=True)
    version: str = Field(max_length=32)
    doi: str | None = Field(default=None, unique=True, max_length=255)
    state: DoiState = enum_field(DoiState, DoiState.DRAFT)
    published_at: datetime | None = optional_time()
    meta: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # DataCite-shaped metadata
    members: list[str] = Field(default_factory=list, sa_type=JSON)  # record IRIs at publication
    harvest_runs: list[str] = Field(default_factory=list, sa_type=JSON)  # run ids they came from


class DatasetSet(SQLModel, table=True):
    """A dataset's OAI-PMH sets: `site:<slug>` (community) and `collection:<id>` of its members,
    kept beside the dataset so a set-restricted harvest pages through an index."""

    __tablename__ = "dataset_set"

    spec: str = Field(primary_key=True, max_length=128)
    dataset_id: uuid.UUID = Field(foreign_key="dataset.id", primary_key=True, index=True)
