"""Coded values: what the site said, and the ontology concept it was mapped to."""

from __future__ import annotations

import enum
import uuid

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field

from catalogue.models.base import Entity, enum_field


class MappingMethod(enum.StrEnum):
    EXACT_CODE = "exact-code"  # the site sent a code of a known scheme
    LABEL = "label"  # matched a preferred label or synonym
    RULE = "rule"  # an ordered rule over several fields
    MAPPING_TABLE = "mapping-table"  # an SSSOM mapping
    CURATOR = "curator"  # accepted or overridden by a curator
    UNMAPPED = "unmapped"  # no concept yet: waits in the curation queue


class CodedValue(Entity, table=True):
    """One coded field of one record. `entity_type` + `entity_id` name the record
    (`series`, `subject`, `imaging_study`, `collection`); a multi-valued field has several rows."""

    __tablename__ = "coded_value"
    __table_args__ = (
        Index("ix_coded_value_entity", "entity_type", "entity_id"),
        Index("ix_coded_value_field_original", "field", "original_value"),
        Index("ix_coded_value_concept", "concept_iri"),
    )

    entity_type: str = Field(max_length=32)
    entity_id: uuid.UUID
    field: str = Field(max_length=64)  # e.g. "body_part", "diagnosis", "sequence_type"
    original_value: str = Field(max_length=1024)
    concept_iri: str | None = Field(default=None, max_length=512)
    scheme: str | None = Field(default=None, max_length=64)  # e.g. "SCT", "ICD10CM", "DCM"
    code: str | None = Field(default=None, max_length=64)
    label: str | None = Field(default=None, max_length=512)
    method: MappingMethod = enum_field(MappingMethod, MappingMethod.UNMAPPED)
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    ancestors: list[str] = Field(default_factory=list, sa_type=JSON)  # concept IRIs, closure


class CuratorDecision(Entity, table=True):
    """A curator's answer for one value of one field: its concept, or none (`concept_iri` NULL).

    The mapper consults these before anything else; the value matches as written and in its
    normalised form (case, accents, punctuation), as the ontology's mapper compares labels.
    """

    __tablename__ = "curator_decision"
    __table_args__ = (UniqueConstraint("field", "original_value"),)

    field: str = Field(max_length=64)
    original_value: str = Field(max_length=1024)
    concept_iri: str | None = Field(default=None, max_length=512)
    decided_by: str | None = Field(default=None, max_length=255)  # the curator's identity
    note: str = ""
