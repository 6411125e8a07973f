"""Where data comes from and what it describes: Site → Collection → Subject → ImagingStudy → Series.

Metadata only. No column holds a direct patient identifier: subjects carry the keyed pseudonym the
harvester minted at the edge, and dates are reduced to years and ages.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field

from catalogue.models.base import (
    Entity,
    Harvested,
    Visibility,
    created_at,
    enum_field,
    optional_time,
)


class Site(Entity, table=True):
    """An institution that holds images (a hospital, a lab); every record says which one."""

    slug: str = Field(unique=True, max_length=63)
    name: str = Field(max_length=255)
    country: str | None = Field(default=None, max_length=2)  # ISO 3166-1 alpha-2
    homepage: str | None = Field(default=None, max_length=512)
    ror_id: str | None = Field(default=None, max_length=64)


class Source(Entity, table=True):
    """A harvested system (XNAT, PACS, folder, partner node); its bookmark belongs to the runner."""

    name: str = Field(unique=True, max_length=63)
    kind: str = Field(max_length=63)
    site_id: uuid.UUID = Field(foreign_key="site.id", index=True)
    bookmark: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    bookmark_at: datetime | None = optional_time()


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # complete, no failures: the bookmark advanced
    PARTIAL = "partial"  # complete, some records failed: the bookmark stayed
    FAILED = "failed"  # stopped by a fatal or retriable error


class HarvestRun(Entity, table=True):
    """One harvest of one source: what it did, and per failed record why (never header values)."""

    __tablename__ = "harvest_run"

    source_id: uuid.UUID = Field(foreign_key="source.id", index=True)
    started_at: datetime = created_at()
    finished_at: datetime | None = optional_time()
    status: RunStatus = enum_field(RunStatus, RunStatus.RUNNING)
    complete: bool = False  # the source was walked to its end
    cursor_from: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    cursor_to: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    seen: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)


class Collection(Harvested, table=True):
    """A group of subjects held at one site: an XNAT project, a PACS export, a BIDS dataset."""

    __table_args__ = (UniqueConstraint("source_id", "native_id"),)

    site_id: uuid.UUID = Field(foreign_key="site.id", index=True)
    title: str = Field(max_length=512)
    description: str = ""
    visibility: Visibility = enum_field(Visibility, Visibility.PUBLIC)
    access_url: str | None = Field(default=None, max_length=2048)


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class Subject(Harvested, table=True):
    """A person or animal, known only by its keyed pseudonym (`native_id` is that pseudonym)."""

    __table_args__ = (UniqueConstraint("source_id", "native_id"),)

    collection_id: uuid.UUID = Field(foreign_key="collection.id", index=True)
    sex: Sex = enum_field(Sex, Sex.UNKNOWN)
    birth_year: int | None = None
    group: str | None = Field(default=None, max_length=255)  # study arm, e.g. "patient", "control"
    strain: str | None = Field(default=None, max_length=255)  # preclinical, free text


class ImagingStudy(Harvested, table=True):
    """One imaging session or DICOM study; dates survive only as year and age."""

    __tablename__ = "imaging_study"
    __table_args__ = (UniqueConstraint("source_id", "native_id"),)

    subject_id: uuid.UUID = Field(foreign_key="subject.id", index=True)
    collection_id: uuid.UUID = Field(foreign_key="collection.id", index=True)
    description: str | None = Field(default=None, max_length=1024)
    year: int | None = Field(default=None, index=True)
    age_years: float | None = None  # age at study
    access_url: str | None = Field(default=None, max_length=2048)


class Series(Harvested, table=True):
    """One series or scan, with what a cohort search needs, and where to fetch its images.

    Coded fields (modality, body part, sequence type) keep the site's raw value here; their
    ontology concepts live in `coded_value` rows so a remapping never loses what the site said.
    """

    __table_args__ = (UniqueConstraint("source_id", "native_id"),)

    study_id: uuid.UUID = Field(foreign_key="imaging_study.id", index=True)
    subject_id: uuid.UUID = Field(foreign_key="subject.id", index=True)
    collection_id: uuid.UUID = Field(foreign_key="collection.id", index=True)
    modality: str | None = Field(default=None, max_length=16)
    body_part: str | None = Field(default=None, max_length=255)
    series_description: str | None = Field(default=None, max_length=1024)
    protocol_name: str | None = Field(default=None, max_length=1024)
    sequence_name: str | None = Field(default=None, max_length=255)
    contrast_agent: bool | None = None
    manufacturer: str | None = Field(default=None, max_length=255)
    model_name: str | None = Field(default=None, max_length=255)
    field_strength_t: float | None = None
    slice_thickness_mm: float | None = None
    repetition_time_ms: float | None = None
    echo_time_ms: float | None = None
    inversion_time_ms: float | None = None
    flip_angle_deg: float | None = None
    image_type: list[str] = Field(default_factory=list, sa_type=JSON)
    sop_class_uids: list[str] = Field(default_factory=list, sa_type=JSON)
    annotations: bool = False  # SEG, RTSTRUCT or SR present
    instance_count: int | None = None
    year: int | None = Field(default=None, index=True)
    access_url: str | None = Field(default=None, max_length=2048)
    attributes: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # further safe fields
