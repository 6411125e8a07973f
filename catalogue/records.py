"""What harvesters yield: typed, de-identified records keyed by `native_id` within their source.

Parents are named by their native ids (a series names its study, subject and collection), so a
harvester never needs the store. A harvester may yield the same parent many times (once per
series); the runner writes it once per run.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from catalogue.models import Sex, Visibility

Cursor = Any  # JSON-serialisable; a harvester's cursors only ever move forward
NativeId = Annotated[str, Field(min_length=1, max_length=512)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    native_id: NativeId
    cursor: Cursor = None
    deidentification_profile: str | None = None


class CollectionRecord(_Record):
    kind: Literal["collection"] = "collection"
    title: str
    description: str = ""
    visibility: Visibility = Visibility.PUBLIC
    access_url: str | None = None


class SubjectRecord(_Record):
    """`native_id` is the keyed pseudonym minted at the edge, never a site identifier."""

    kind: Literal["subject"] = "subject"
    collection: NativeId
    sex: Sex = Sex.UNKNOWN
    birth_year: int | None = None
    group: str | None = None
    species: str | None = None  # raw, e.g. "Homo sapiens", "Mus musculus"
    strain: str | None = None
    diagnoses: tuple[str, ...] = ()  # raw, mapped to concepts by the ontology layer


class StudyRecord(_Record):
    kind: Literal["study"] = "study"
    collection: NativeId
    subject: NativeId
    description: str | None = None
    year: int | None = None
    age_years: float | None = None
    access_url: str | None = None


class SeriesRecord(_Record):
    kind: Literal["series"] = "series"
    collection: NativeId
    subject: NativeId
    study: NativeId
    modality: str | None = None
    body_part: str | None = None
    series_description: str | None = None
    protocol_name: str | None = None
    sequence_name: str | None = None
    contrast_agent: bool | None = None
    manufacturer: str | None = None
    model_name: str | None = None
    field_strength_t: float | None = None
    slice_thickness_mm: float | None = None
    repetition_time_ms: float | None = None
    echo_time_ms: float | None = None
    inversion_time_ms: float | None = None
    flip_angle_deg: float | None = None
    image_type: tuple[str, ...] = ()
    sop_class_uids: tuple[str, ...] = ()
    annotations: bool = False
    instance_count: int | None = None
    year: int | None = None
    access_url: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class DatasetRecord(_Record):
    """A dataset described by a partner catalogue (OAI-PMH, DCAT), at dataset level only.

    `identifier` and `landing_page` are the partner's, kept as given (a DOI stays the partner's
    DOI); `meta` is DataCite-shaped (the `attributes` of DataCite JSON). Names of creators and
    contacts are the partner's public metadata, not patient data.
    """

    kind: Literal["dataset"] = "dataset"
    title: str = Field(min_length=1)
    description: str = ""
    identifier: str | None = None
    landing_page: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


Record = CollectionRecord | SubjectRecord | StudyRecord | SeriesRecord | DatasetRecord
RecordKind = Literal["collection", "subject", "study", "series", "dataset"]


class Seen(BaseModel):
    """A record the harvester saw unchanged since its cursor and did not read again (e.g. a file
    whose size and mtime did not change). It counts as seen for deletion tracking."""

    model_config = ConfigDict(frozen=True)

    kind: RecordKind
    native_id: NativeId


class Checkpoint(BaseModel):
    """A cursor reached without a record (e.g. the end of a date window, a folder's file index)."""

    model_config = ConfigDict(frozen=True)

    cursor: Cursor


class Deleted(BaseModel):
    """The source says a record is gone (an OAI-PMH header with status "deleted"): the runner
    soft-deletes it at once, whether or not the run is complete."""

    model_config = ConfigDict(frozen=True)

    kind: RecordKind
    native_id: NativeId
    cursor: Cursor = None


Item = Record | Seen | Checkpoint | Deleted
