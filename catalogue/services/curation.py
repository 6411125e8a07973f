"""The curation queue: values the mapper could not map, or mapped unsurely, and curators' answers.

A decision (accept the proposed concept, or override it with another or with none) is stored in
the catalogue and consulted by the mapper before anything else. Storing it re-maps every stored
record carrying the value (as written or in the same normalised form, as the mapper matches)
and queues those records for the index in the same transaction, so the index follows.
Only curators and admins may see the queue or decide.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, col, select

from catalogue.access import Identity
from catalogue.errors import PermissionDeniedError, ValidationError
from catalogue.models import (
    CodedValue,
    CuratorDecision,
    MappingMethod,
    OutboxEntry,
    OutboxOp,
    Series,
    Source,
    Subject,
)
from catalogue.services.coding import CodingService, concept_columns
from catalogue.services.terms import ConceptRef, TermService, term_brief
from catalogue.store import Store
from ontology import Mapping
from ontology.mapping import JUSTIFICATION
from ontology.normalise import normalise

MAX_QUEUE = 1000
QueueRow = Any  # (source, field, original_value, method, concept_iri, confidence, records)
SUGGESTIONS = 5
_CHUNK = 500


class SourceCount(BaseModel):
    source: str
    records: int


class QueueEntry(BaseModel):
    """One field value waiting for a curator, with the records carrying it per source."""

    field: str
    value: str
    records: int
    sources: list[SourceCount]
    method: str  # how it is mapped now ("unmapped", or a method with low confidence)
    confidence: float
    concept: ConceptRef | None  # what the mapper proposes now, if anything
    suggestions: list[ConceptRef]  # further candidates, by label prefix of the value's words


class Remapped(BaseModel):
    """What a decision changed."""

    field: str
    value: str
    concept: ConceptRef | None  # None: "no concept applies"
    records: int  # distinct records whose coded values were re-mapped
    values: list[str]  # the stored spellings re-mapped ("BRAIN", "brain ")


class Decision(BaseModel):
    field: str
    value: str
    concept: ConceptRef | None
    decided_by: str | None
    decided_at: datetime
    note: str


def may_curate(identity: Identity) -> bool:
    """Curators (node-wide `curator`, or a site's `curator:<slug>`) and admins."""
    return any(r in ("admin", "curator") or r.startswith("curator:") for r in identity.roles)


class CurationService:
    def __init__(
        self, store: Store, coding: CodingService, terms: TermService, review_below: float = 0.6
    ) -> None:
        self.store = store
        self.coding = coding
        self.terms = terms
        self.review_below = review_below

    def queue(
        self,
        identity: Identity,
        *,
        field: str | None = None,
        source: str | None = None,
        limit: int = 100,
    ) -> list[QueueEntry]:
        """Unmapped and low-confidence values (below `review_below`), most records first."""
        _require(identity)
        if not 1 <= limit <= MAX_QUEUE:
            raise ValidationError(f"limit must be between 1 and {MAX_QUEUE}")
        groups: dict[tuple[str, str], _Group] = defaultdict(_Group)
        with self.store.session() as session:
            for row in _queue_rows(session, self.review_below, field, source):
                groups[(row.field, row.original_value)].add(row)
        ranked = sorted(groups.items(), key=lambda kv: (-kv[1].total(), kv[0]))[:limit]
        return [self._entry(f, v, g) for (f, v), g in ranked]

    def accept(self, identity: Identity, field: str, value: str, note: str = "") -> Remapped:
        """Confirm the concept the mapper proposes for the value (an error when it has none)."""
        _require(identity)
        with self.store.session() as session:
            proposed = session.exec(
                select(CodedValue.concept_iri)
                .where(
                    CodedValue.field == field,
                    CodedValue.original_value == value,
                    col(CodedValue.concept_iri).is_not(None),
                )
                .group_by(col(CodedValue.concept_iri))
                .order_by(sa.func.count().desc(), col(CodedValue.concept_iri))
            ).first()
        if proposed is None:
            raise ValidationError(f"no concept is proposed for {field} {value!r}: override it")
        return self._decide(identity, field, value, proposed, note)

    def override(
        self, identity: Identity, field: str, value: str, concept: str | None, note: str = ""
    ) -> Remapped:
        """Map the value to `concept` (a CURIE or IRI of a loaded term), or to no concept."""
        _require(identity)
        iri = None
        if concept is not None:
            term = self.coding.ontology.term(concept)
            if term is None:
                raise ValidationError(f"no term {concept!r} in the loaded vocabularies")
            iri = term.iri
        return self._decide(identity, field, value, iri, note)

    def decisions(self, identity: Identity) -> list[Decision]:
        """Every stored decision, by field and value."""
        _require(identity)
        with self.store.session() as session:
            rows = session.exec(
                select(CuratorDecision).order_by(
                    col(CuratorDecision.field), col(CuratorDecision.original_value)
                )
            ).all()
        return [
            Decision(
                field=r.field,
                value=r.original_value,
                concept=self.terms.ref(r.concept_iri),
                decided_by=r.decided_by,
                decided_at=r.updated_at,
                note=r.note,
            )
            for r in rows
        ]

    def export_sssom(self, identity: Identity, path: Path) -> int:
        """Write the node's mappings as SSSOM/TSV: every mapped value stored, and every curator
        decision ("no concept" as `sssom:NoTermFound`). Returns the number of rows."""
        _require(identity)
        with self.store.session() as session:
            self.coding.load_decisions(session)
            mappings = [*self._stored_mappings(session), *self._decided(session)]
        unique = {(m.field, m.value) for m in mappings}
        self.coding.ontology.export_sssom(mappings, path, include_unmapped=True)
        return len(unique)

    def _stored_mappings(self, session: Session) -> list[Mapping]:
        """Distinct stored mappings, the most frequent per value last (the export keeps it)."""
        keys = (
            col(CodedValue.field),
            col(CodedValue.original_value),
            col(CodedValue.concept_iri),
            col(CodedValue.method),
            col(CodedValue.confidence),
        )
        query = (
            sa.select(*keys)
            .where(col(CodedValue.concept_iri).is_not(None))
            .group_by(*keys)
            .order_by(sa.func.count(), *keys)
        )
        return [
            self._as_mapping(field, value, str(iri), MappingMethod(method), confidence)
            for field, value, iri, method, confidence in session.connection().execute(query)
        ]

    def _decided(self, session: Session) -> list[Mapping]:
        rows = session.exec(select(CuratorDecision.field, CuratorDecision.original_value)).all()
        fields = set(self.coding.ontology.fields)
        return [self.coding.map(field, value) for field, value in rows if field in fields]

    def _as_mapping(
        self, field: str, value: str, iri: str, method: MappingMethod, confidence: float
    ) -> Mapping:
        """A stored mapping with the predicate and justification the mapper gives it now, when
        it still answers the same (a classifier's answer may have depended on context)."""
        now = self.coding.map(field, value) if field in self.coding.ontology.fields else None
        if now is not None and now.iri == iri and now.method == method.value:
            return now
        ref = self.terms.ref(iri)
        return Mapping(
            field=field,
            value=value,
            iri=iri,
            curie=ref.curie if ref else None,
            scheme=ref.scheme if ref else None,
            code=ref.curie.split(":", 1)[1] if ref and ref.curie else None,
            label=ref.label if ref else None,
            method=method.value,
            confidence=confidence,
            closure=(iri,),
            justification=JUSTIFICATION[method.value],
        )

    # -- deciding --------------------------------------------------------------------------
    def _decide(
        self, identity: Identity, field: str, value: str, iri: str | None, note: str
    ) -> Remapped:
        if field not in self.coding.ontology.fields:
            known = ", ".join(self.coding.ontology.fields)
            raise ValidationError(f"unknown coded field {field!r} (known: {known})")
        if not value.strip() or len(value) > 1024:
            raise ValidationError("the value must be 1 to 1024 characters")
        with self.store.session() as session:
            row = session.exec(
                select(CuratorDecision).where(
                    CuratorDecision.field == field, CuratorDecision.original_value == value
                )
            ).first()
            row = row or CuratorDecision(field=field, original_value=value)
            row.concept_iri, row.decided_by, row.note = iri, identity.subject, note
            session.add(row)
            session.flush()
            self.coding.load_decisions(session)
            spellings, records = self._remap(session, field, value)
        return Remapped(
            field=field,
            value=value,
            concept=self.terms.ref(iri),
            records=records,
            values=spellings,
        )

    def _remap(self, session: Session, field: str, value: str) -> tuple[list[str], int]:
        """Re-map stored values the decision now answers; queue their records for the index."""
        key = normalise(value.strip())
        stored = session.exec(
            select(CodedValue.original_value).where(CodedValue.field == field).distinct()
        ).all()
        spellings = sorted(v for v in stored if v == value or normalise(v.strip()) == key)
        touched: set[tuple[str, uuid.UUID]] = set()
        for spelling in spellings:
            mapping = self.coding.map(field, spelling)
            if mapping.method != "curator":  # another spelling's decision wins for this one
                continue
            where = (col(CodedValue.field) == field, col(CodedValue.original_value) == spelling)
            touched.update(
                session.connection().execute(
                    sa.select(col(CodedValue.entity_type), col(CodedValue.entity_id)).where(*where)
                )
            )
            columns = {k: v for k, v in concept_columns(mapping).items() if k != "original_value"}
            session.connection().execute(sa.update(CodedValue).where(*where).values(**columns))
        session.add_all(
            OutboxEntry(entity_type=kind, entity_id=id_, op=OutboxOp.UPSERT)
            for kind, id_ in sorted(touched)
        )
        return spellings, len(touched)

    # -- the queue -------------------------------------------------------------------------
    def _entry(self, field: str, value: str, group: _Group) -> QueueEntry:
        method, iri, confidence = group.current()
        concept = self.terms.ref(iri)
        return QueueEntry(
            field=field,
            value=value,
            records=group.total(),
            sources=[SourceCount(source=s, records=n) for s, n in sorted(group.sources.items())],
            method=method,
            confidence=confidence,
            concept=concept,
            suggestions=self._suggest(field, value, iri),
        )

    def _suggest(self, field: str, value: str, current: str | None) -> list[ConceptRef]:
        """Terms of the field whose labels start with the value, or with its longer words."""
        words = sorted((w for w in normalise(value).split() if len(w) >= 3), key=len, reverse=True)
        found: dict[str, ConceptRef] = {}
        for probe in [value, *words]:
            for term in self.coding.ontology.search(probe, SUGGESTIONS, field=field):
                if term.iri != current and len(found) < SUGGESTIONS:
                    found.setdefault(term.iri, ConceptRef(**term_brief(term)))
        return list(found.values())


class _Group:
    """Queue rows of one (field, value): records per source and per current mapping."""

    def __init__(self) -> None:
        self.sources: dict[str, int] = defaultdict(int)
        self.mappings: dict[tuple[str, str | None, float], int] = defaultdict(int)

    def add(self, row: QueueRow) -> None:
        self.sources[row.source] += row.records
        self.mappings[(row.method, row.concept_iri, row.confidence)] += row.records

    def total(self) -> int:
        return sum(self.sources.values())

    def current(self) -> tuple[str, str | None, float]:
        """The most frequent current mapping (a series' context may change it)."""
        return max(self.mappings.items(), key=lambda kv: (kv[1], kv[0][2]))[0]


def _queue_rows(
    session: Session, below: float, field: str | None, source: str | None
) -> Iterable[QueueRow]:
    for model, entity_type in ((Series, "series"), (Subject, "subject")):
        keys: tuple[Any, ...] = (
            col(Source.name).label("source"),
            col(CodedValue.field),
            col(CodedValue.original_value),
            col(CodedValue.method),
            col(CodedValue.concept_iri),
            col(CodedValue.confidence),
        )
        query = (
            sa.select(*keys, sa.func.count(sa.distinct(col(CodedValue.entity_id))).label("records"))
            .join(model, col(model.id) == col(CodedValue.entity_id))
            .join(Source, col(Source.id) == col(model.source_id))
            .where(
                col(CodedValue.entity_type) == entity_type,
                col(model.deleted_at).is_(None),
                col(CodedValue.method) != MappingMethod.CURATOR,
                sa.or_(
                    col(CodedValue.method) == MappingMethod.UNMAPPED,
                    col(CodedValue.confidence) < below,
                ),
            )
            .group_by(*keys)
        )
        if field is not None:
            query = query.where(col(CodedValue.field) == field)
        if source is not None:
            query = query.where(col(Source.name) == source)
        yield from session.connection().execute(query)


def _require(identity: Identity) -> None:
    if not may_curate(identity):
        raise PermissionDeniedError("curating mappings needs the curator or admin role")
