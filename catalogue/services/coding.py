"""Coded fields of harvested records → ontology concepts, as `CodedValue` rows.

Every coded field keeps what the site wrote and gains the concept, how it was found, how sure the
mapper is, and the concept's ancestors (materialised, so a filter on "head" finds "brain" in
either search backend without walking a graph). The ontology is loaded once by the composition
root; its mapper caches repeated values, so a harvest pays a dict look-up per repeated value.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, select

from catalogue.errors import ConfigurationError, ErrorDetail
from catalogue.models import CuratorDecision, MappingMethod, utcnow
from catalogue.records import SeriesRecord, SubjectRecord
from catalogue.settings import Settings
from ontology import Mapping, Ontology, OntologyError

CodedRow = dict[str, Any]  # the columns of one `coded_value` row
SERIES_FIELDS = ("modality", "body_part", "sequence_type", "contrast")
SUBJECT_FIELDS = ("species", "diagnosis")
_MR = frozenset({"MR", "MRI"})


def load_ontology(settings: Settings) -> Ontology:
    """The bundled vocabularies plus the user's ontology files, rules and SSSOM tables named in
    settings; a broken file is a `ConfigurationError` naming the file and line."""
    try:
        return Ontology.load(
            extra_files=settings.ontology_files,
            mapping_tables=settings.ontology_mapping_tables,
            rules=settings.ontology_rules,
            cache_dir=settings.data_dir / "ontology-cache",
        )
    except OntologyError as exc:
        where = f"{exc.path}:{exc.line}" if exc.line is not None else str(exc.path)
        raise ConfigurationError(
            "an ontology file, rules file or mapping table cannot be used",
            [ErrorDetail(location=where, message=exc.reason)],
        ) from None


class CodingService:
    """Maps the coded fields of records, with the catalogue's curator decisions consulted first."""

    def __init__(self, ontology: Ontology) -> None:
        self.ontology = ontology

    def load_decisions(self, session: Session) -> dict[tuple[str, str], str | None]:
        """Hand the stored curator decisions to the mapper (clears its cache); returns them."""
        rows = session.exec(select(CuratorDecision)).all()
        decisions = {(row.field, row.original_value): row.concept_iri for row in rows}
        self.ontology.set_curator_decisions(decisions)
        return decisions

    def map(self, field: str, value: str, **context: Any) -> Mapping:
        return self.ontology.map(field, value, **context)

    def series_values(self, series_id: uuid.UUID, record: SeriesRecord) -> list[CodedRow]:
        """Modality, body part and, for MR, the sequence type; the contrast phase when known."""
        out = [
            coded_row("series", series_id, self.map(name, value))
            for name, value in (("modality", record.modality), ("body_part", record.body_part))
            if value and value.strip()
        ]
        text = _series_text(record)
        declared = _declared_sequence_type(record)
        context = _series_context(record)
        if (declared or text) and (record.modality or "").strip().upper() in _MR:
            sequence = self.map("sequence_type", declared or text or "", **context)
            out.append(coded_row("series", series_id, sequence))
        if text is None:
            return out
        contrast = self.map("contrast", text, **context)
        if contrast.mapped:  # absence says nothing: most series never name a phase
            out.append(coded_row("series", series_id, contrast))
        return out

    def subject_values(self, subject_id: uuid.UUID, record: SubjectRecord) -> list[CodedRow]:
        """Species and every diagnosis."""
        values = [("species", record.species), *(("diagnosis", d) for d in record.diagnoses)]
        return [
            coded_row("subject", subject_id, self.map(name, value))
            for name, value in values
            if value and value.strip()
        ]


def coded_row(entity_type: str, entity_id: uuid.UUID, mapping: Mapping) -> CodedRow:
    """A `coded_value` row, ready for one bulk insert (no ORM object: a harvest writes millions,
    and building model instances would cost more than mapping the values)."""
    return new_row(entity_type, entity_id, mapping.field, **concept_columns(mapping))


def new_row(entity_type: str, entity_id: uuid.UUID, field: str, **columns: Any) -> CodedRow:
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "created_at": now,
        "updated_at": now,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "field": field,
        "concept_iri": None,
        "scheme": None,
        "code": None,
        "label": None,
        "method": MappingMethod.UNMAPPED,
        "confidence": 0.0,
        "ancestors": [],
        **columns,
    }


def concept_columns(mapping: Mapping) -> dict[str, Any]:
    """The `CodedValue` columns a mapping fills (all but which record and field)."""
    return {
        "original_value": mapping.value[:1024],
        "concept_iri": mapping.iri,
        "scheme": mapping.scheme,
        "code": mapping.code[:64] if mapping.code else None,
        "label": mapping.label[:512] if mapping.label else None,
        "method": MappingMethod(mapping.method),
        "confidence": mapping.confidence,
        "ancestors": list(mapping.closure[1:]),
    }


def _series_text(record: SeriesRecord) -> str | None:
    """The value a sequence type is read from: what the site called the series."""
    for text in (record.series_description, record.protocol_name, record.sequence_name):
        if text and text.strip():
            return text
    return None


def _declared_sequence_type(record: SeriesRecord) -> str | None:
    """A sequence type the source states rather than implies (a BIDS suffix: `T1w`, `bold`):
    mapped as a code instead of classified from the description."""
    declared = record.attributes.get("sequence_type")
    return declared if isinstance(declared, str) and declared.strip() else None


def _series_context(record: SeriesRecord) -> dict[str, Any]:
    """What the classifier reads besides the description; only what is present, so that cache
    keys repeat as often as the series themselves do."""
    given = {
        "protocol": record.protocol_name,
        "sequence_name": record.sequence_name,
        "image_type": record.image_type or None,
        "tr": record.repetition_time_ms,
        "te": record.echo_time_ms,
        "ti": record.inversion_time_ms,
        "flip": record.flip_angle_deg,
        "modality": record.modality,
        "contrast_agent": record.contrast_agent,
    }
    return {name: value for name, value in given.items() if value is not None}
