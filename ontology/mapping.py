"""Field values to concepts: the mapping result and the pipeline that produces it.

For one field and value the mappers are tried in order, the first answer wins:
curator decision, exact code (CURIE, IRI or bare code), mapping table (SSSOM), label or synonym,
the MR series classifier (sequence type and contrast only), rules, the head of a qualified label
("Multiple sclerosis, relapsing" -> "Multiple sclerosis"), else unmapped.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Literal

from ontology.fields import FieldSpec
from ontology.store import HIDDEN, PREFERRED, TermStore

Method = Literal["exact-code", "label", "rule", "mapping-table", "curator", "unmapped"]
METHODS: tuple[Method, ...] = (
    "exact-code",
    "label",
    "rule",
    "mapping-table",
    "curator",
    "unmapped",
)
JUSTIFICATION: dict[Method, str] = {
    "exact-code": "semapv:LexicalMatching",
    "label": "semapv:LexicalMatching",
    "rule": "semapv:BackgroundKnowledgeBasedMatching",
    "mapping-table": "semapv:MappingChaining",
    "curator": "semapv:ManualMappingCuration",
    "unmapped": "semapv:LexicalMatching",
}
LABEL_CONFIDENCE = {PREFERRED: 0.95, 1: 0.9, HIDDEN: 0.8}
AMBIGUITY_FACTOR = 0.6  # two concepts share the label: below any sensible review threshold
HEAD_CONFIDENCE = 0.6


@dataclass(frozen=True, slots=True)
class Mapping:
    """One field value and the concept it maps to (all concept fields None when unmapped).

    `closure` is the concept and all its ancestors (IRIs, nearest first): index it, and a filter
    on any ancestor finds this value. `source` says which rule, table row or classifier decided.
    """

    field: str
    value: str
    iri: str | None
    curie: str | None
    scheme: str | None
    code: str | None
    label: str | None
    method: Method
    confidence: float
    closure: tuple[str, ...]
    predicate: str = "skos:exactMatch"
    justification: str = "semapv:LexicalMatching"
    source: str = ""

    @property
    def mapped(self) -> bool:
        return self.iri is not None


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a mapper found, before it is dressed as a Mapping."""

    iri: str | None
    method: Method
    confidence: float
    predicate: str = "skos:exactMatch"
    justification: str = ""
    source: str = ""


def build(store: TermStore, field: str, value: str, found: Candidate) -> Mapping:
    """A Mapping for a candidate: label, code and closure from the store."""
    justification = found.justification or JUSTIFICATION[found.method]
    if found.iri is None:
        return Mapping(
            field, value, None, None, None, None, None, found.method, found.confidence, (),
            found.predicate, justification, found.source,
        )  # fmt: skip
    term = store.term(found.iri)
    parts = store.prefixes.split(found.iri)
    closure = store.closure(found.iri) if term else (found.iri,)
    return Mapping(
        field=field,
        value=value,
        iri=found.iri,
        curie=f"{parts[0]}:{parts[1]}" if parts else None,
        scheme=parts[0] if parts else None,
        code=term.code if term else (parts[1] if parts else None),
        label=term.label if term else None,
        method=found.method,
        confidence=round(found.confidence, 4),
        closure=closure,
        predicate=found.predicate,
        justification=justification,
        source=found.source,
    )


class FieldFilter:
    """Which concepts a field accepts, and in which order of preference."""

    def __init__(self, store: TermStore, spec: FieldSpec) -> None:
        self.store, self.spec = store, spec
        self._prefix_rank = {p: i for i, p in enumerate(spec.prefixes)}
        self._scheme_rank = {s: i for i, s in enumerate(spec.schemes)}

    def rank(self, iri: str, explicit: bool = False) -> tuple[int, int] | None:
        """(prefix order, scheme order) when accepted, else None.

        Labels and bare codes must come from the field's schemes; so must any concept we hold.
        An explicit code, table row or rule naming a concept we do not hold only needs one of the
        field's prefixes (a site may send a SNOMED CT diagnosis code we do not bundle).
        """
        parts = self.store.prefixes.split(iri)
        prefix_rank = self._prefix_rank.get(parts[0]) if parts else None
        record = self.store.record(iri)
        schemes = record.schemes if record else ()
        scheme_rank = min(
            (self._scheme_rank[s] for s in schemes if s in self._scheme_rank), default=None
        )
        if scheme_rank is not None:
            return (prefix_rank if prefix_rank is not None else len(self._prefix_rank), scheme_rank)
        if prefix_rank is None or (record is not None and self.spec.schemes):
            return None  # a known concept of another scheme (anatomy is no diagnosis)
        if explicit or not self.spec.schemes:
            return (prefix_rank, len(self._scheme_rank))
        return None

    def best(self, iris: list[str], explicit: bool = False) -> tuple[str, bool] | None:
        """The preferred accepted IRI, and whether another one ranks the same (ambiguous)."""
        ranked = sorted((r, iri) for iri in iris if (r := self.rank(iri, explicit)) is not None)
        if not ranked:
            return None
        tied = len(ranked) > 1 and ranked[1][0] == ranked[0][0]
        return ranked[0][1], tied


def label_candidate(
    store: TermStore, accept: FieldFilter, key: str, source: str = ""
) -> Candidate | None:
    """The best concept whose label, synonym or hidden label normalises to `key`."""
    hits = [(rank, iri) for rank, iri in store.by_label(key) if accept.rank(iri) is not None]
    if not hits:
        return None
    best_rank = min(rank for rank, _ in hits)
    chosen = accept.best([iri for rank, iri in hits if rank == best_rank])
    if chosen is None:
        return None
    iri, tied = chosen
    confidence = LABEL_CONFIDENCE[best_rank] * (AMBIGUITY_FACTOR if tied else 1.0)
    return Candidate(iri, "label", confidence, source=source)


def curator_candidate(
    decisions: MappingABC[tuple[str, str], str | None], field: str, value: str, key: str
) -> Candidate | None:
    """A curator's decision for the value as written or for its normalised form."""
    for probe in (value, key):
        if (field, probe) in decisions:
            return Candidate(decisions[(field, probe)], "curator", 1.0, source="curator")
    return None
