"""Ontology terms (look-up, autocomplete, descendants, record counts) and curation (the queue,
accepting or overriding a mapping): thin over `TermService` and `CurationService`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from api.graphql.context import Context, blocking
from catalogue.services.curation import QueueEntry, Remapped
from catalogue.services.terms import ConceptRef, TermInfo

Info = strawberry.Info[Context, None]
Counts = Annotated[
    bool,
    strawberry.argument(description="Also count the records carrying each term or one below it."),
]


@strawberry.type(description="A concept, briefly.")
class ConceptBrief:
    iri: str
    curie: str | None
    label: str | None
    scheme: str | None

    @classmethod
    def of(cls, c: ConceptRef) -> ConceptBrief:
        return cls(iri=c.iri, curie=c.curie, label=c.label, scheme=c.scheme)


@strawberry.type(
    description="Records carrying a concept or one below it; null and suppressed when the part "
    "from aggregate-only collections is below the threshold."
)
class TermCount:
    records: int | None
    suppressed: bool


@strawberry.type(description="An ontology term of the node's vocabularies.")
class Term:
    iri: str
    curie: str | None
    label: str
    code: str
    scheme: str | None
    synonyms: list[str]
    parents: list[str] = strawberry.field(description="IRIs of the terms directly above.")
    vocabularies: list[str]
    version: str
    count: TermCount | None = strawberry.field(description="Only when asked for (`counts`).")

    @classmethod
    def of(cls, t: TermInfo) -> Term:
        count = (
            TermCount(records=t.count.records, suppressed=t.count.suppressed) if t.count else None
        )
        data = t.model_dump(exclude={"count"})
        return cls(count=count, **data)


async def term(info: Info, id: str, counts: bool) -> Term:
    ctx = info.context
    found = await blocking(lambda: ctx.services.terms.get(id, identity=ctx.identity, counts=counts))
    return Term.of(found)


async def terms(
    info: Info, prefix: str | None, below: str | None, field: str | None, first: int, counts: bool
) -> list[Term]:
    ctx = info.context
    service = ctx.services.terms
    if below is not None:
        found = await blocking(
            lambda: service.descendants(below, limit=first, identity=ctx.identity, counts=counts)
        )
    else:
        found = await blocking(
            lambda: service.autocomplete(
                prefix or "", field=field, limit=first, identity=ctx.identity, counts=counts
            )
        )
    return [Term.of(t) for t in found]


@strawberry.type(description="Records of one source waiting on a value.")
class SourceCount:
    source: str
    records: int


@strawberry.type(description="A coded value waiting for a curator: unmapped or mapped unsurely.")
class CurationItem:
    field: str
    value: str
    records: int
    sources: list[SourceCount]
    method: str
    confidence: float
    concept: ConceptBrief | None = strawberry.field(description="What the mapper proposes now.")
    suggestions: list[ConceptBrief]

    @classmethod
    def of(cls, e: QueueEntry) -> CurationItem:
        return cls(
            field=e.field,
            value=e.value,
            records=e.records,
            sources=[SourceCount(source=s.source, records=s.records) for s in e.sources],
            method=e.method,
            confidence=e.confidence,
            concept=ConceptBrief.of(e.concept) if e.concept else None,
            suggestions=[ConceptBrief.of(s) for s in e.suggestions],
        )


@strawberry.type(description="A curator's decision, applied to every stored record with the value.")
class Remapping:
    field: str
    value: str
    concept: ConceptBrief | None = strawberry.field(description="Null: no concept applies.")
    records: int = strawberry.field(description="Records whose coded values were re-mapped.")
    values: list[str] = strawberry.field(description="The stored spellings re-mapped.")

    @classmethod
    def of(cls, r: Remapped) -> Remapping:
        concept = ConceptBrief.of(r.concept) if r.concept else None
        return cls(
            field=r.field, value=r.value, concept=concept, records=r.records, values=r.values
        )


async def curation_queue(
    info: Info, field: str | None, source: str | None, first: int
) -> list[CurationItem]:
    ctx = info.context
    found = await blocking(
        lambda: ctx.services.curation.queue(ctx.identity, field=field, source=source, limit=first)
    )
    return [CurationItem.of(e) for e in found]


async def accept_mapping(info: Info, field: str, value: str, note: str) -> Remapping:
    ctx = info.context
    done = await blocking(ctx.services.curation.accept, ctx.identity, field, value, note)
    return Remapping.of(done)


async def override_mapping(
    info: Info, field: str, value: str, concept: str | None, note: str
) -> Remapping:
    ctx = info.context
    done = await blocking(ctx.services.curation.override, ctx.identity, field, value, concept, note)
    return Remapping.of(done)
