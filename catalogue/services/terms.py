"""Term look-up for UIs and APIs: by CURIE or IRI, autocomplete over labels and synonyms,
descendants, and how many catalogue records carry a concept (or any concept below it).

Counts follow the node's access rules: only collections the caller may know of are counted, and
when the part from collections the caller sees as aggregates only is below the suppression
threshold (but not zero) the count is withheld (`records: None, suppressed: True`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import col

from catalogue.access import Identity, can_list, counts_exact
from catalogue.errors import NotFoundError, ValidationError
from catalogue.models import CodedValue, Collection, Series, Subject, Visibility
from catalogue.store import Store
from ontology import Ontology, Term

MAX_LIMIT = 100
_CHUNK = 500


class ConceptRef(BaseModel):
    """A concept, briefly: enough to show it and to link to it."""

    iri: str
    curie: str | None
    label: str | None
    scheme: str | None  # the code system's CURIE prefix, e.g. "SCTID", "ICD10CM"


class RecordCount(BaseModel):
    """Catalogue records (series or subjects) carrying the concept or a concept below it."""

    records: int | None  # None when suppressed
    suppressed: bool = False


class TermInfo(BaseModel):
    """A concept as the API shows it."""

    iri: str
    curie: str | None
    label: str
    code: str
    scheme: str | None
    synonyms: list[str]
    parents: list[str]  # IRIs
    vocabularies: list[str]  # concept-scheme IRIs
    version: str
    count: RecordCount | None = None  # only when asked for


class TermService:
    """Look-ups over the node's ontology; counts from the store."""

    def __init__(self, store: Store, ontology: Ontology, suppression_threshold: int = 5) -> None:
        self.store = store
        self.ontology = ontology
        self.threshold = suppression_threshold

    def get(
        self, curie_or_iri: str, *, identity: Identity | None = None, counts: bool = False
    ) -> TermInfo:
        """One term by CURIE (any known prefix or alias: `SCT:12738006`) or IRI.

        Raises `NotFoundError` when no loaded vocabulary holds it."""
        term = self.ontology.term(curie_or_iri)
        if term is None:
            raise NotFoundError(f"no term {curie_or_iri!r} in the loaded vocabularies")
        return self._infos([term], identity, counts)[0]

    def autocomplete(
        self,
        prefix: str,
        *,
        field: str | None = None,
        limit: int = 10,
        identity: Identity | None = None,
        counts: bool = False,
    ) -> list[TermInfo]:
        """Terms whose label or synonym starts with `prefix` (exact match first), optionally only
        those a coded field accepts (`body_part`, `diagnosis`, ...)."""
        self._check_field(field)
        terms = self.ontology.search(prefix, _limit(limit), field=field)
        return self._infos(terms, identity, counts)

    def descendants(
        self,
        curie_or_iri: str,
        *,
        limit: int = MAX_LIMIT,
        identity: Identity | None = None,
        counts: bool = False,
    ) -> list[TermInfo]:
        """Concepts below a term, nearest first (at most `limit`)."""
        iri = self.get(curie_or_iri).iri
        below = self.ontology.descendants(iri)[: _limit(limit)]
        terms = [t for i in below if (t := self.ontology.term(i)) is not None]
        return self._infos(terms, identity, counts)

    def ancestors(self, curie_or_iri: str) -> list[TermInfo]:
        """Concepts above a term, nearest first."""
        iri = self.get(curie_or_iri).iri
        terms = [
            t for i in self.ontology.ancestors(iri) if (t := self.ontology.term(i)) is not None
        ]
        return self._infos(terms, None, False)

    def ref(self, iri: str | None) -> ConceptRef | None:
        """A brief reference to a concept (label None for an IRI no vocabulary holds)."""
        if iri is None:
            return None
        term = self.ontology.term(iri)
        if term is not None:
            return ConceptRef(**term_brief(term))
        curie = self.ontology.curie(iri)
        scheme = curie.split(":")[0] if curie else None
        return ConceptRef(iri=iri, curie=curie, label=None, scheme=scheme)

    def record_counts(self, iris: Sequence[str], identity: Identity) -> dict[str, RecordCount]:
        """Per concept: records carrying it or any concept below it, as `identity` may see."""
        visible = [v for v in Visibility if can_list(identity, v)]
        exact = [v for v in visible if counts_exact(identity, v)]
        inexact = [v for v in visible if v not in exact]
        with self.store.session() as session:
            conn = session.connection()
            present = {str(row[0]) for row in conn.execute(_present_concepts())}
            out: dict[str, RecordCount] = {}
            for iri in iris:
                wanted = sorted(present.intersection([iri, *self.ontology.descendants(iri)]))
                known = _count(conn, wanted, exact) if wanted and exact else 0
                small = _count(conn, wanted, inexact) if wanted and inexact else 0
                hidden = 0 < small < self.threshold  # the sum would give the small cell away
                out[iri] = RecordCount(records=None if hidden else known + small, suppressed=hidden)
        return out

    # -- helpers ---------------------------------------------------------------------------
    def _infos(
        self, terms: Sequence[Term], identity: Identity | None, counts: bool
    ) -> list[TermInfo]:
        found = self.record_counts([t.iri for t in terms], identity or Identity()) if counts else {}
        return [_info(t, found.get(t.iri)) for t in terms]

    def _check_field(self, field: str | None) -> None:
        if field is not None and field not in self.ontology.fields:
            known = ", ".join(self.ontology.fields)
            raise ValidationError(f"unknown coded field {field!r} (known: {known})")


def term_brief(term: Term) -> dict[str, str | None]:
    """The fields of a `ConceptRef` for a term."""
    return {"iri": term.iri, "curie": term.curie, "label": term.label, "scheme": term.scheme}


def _info(term: Term, count: RecordCount | None) -> TermInfo:
    return TermInfo(
        iri=term.iri,
        curie=term.curie,
        label=term.label,
        code=term.code,
        scheme=term.scheme,
        synonyms=list(term.synonyms),
        parents=list(term.parents),
        vocabularies=list(term.vocabularies),
        version=term.version,
        count=count,
    )


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _present_concepts() -> sa.Select[Any]:
    return (
        sa.select(col(CodedValue.concept_iri))
        .where(col(CodedValue.concept_iri).is_not(None))
        .distinct()
    )


def _count(conn: sa.Connection, iris: Sequence[str], visible: Iterable[Visibility]) -> int:
    """Distinct live records in visible collections carrying one of `iris`."""
    chunks = [iris[i : i + _CHUNK] for i in range(0, len(iris), _CHUNK)]
    seen: set[tuple[str, uuid.UUID]] = set()
    total = 0
    for model, entity_type in ((Series, "series"), (Subject, "subject")):
        for chunk in chunks:
            query = (
                sa.select(col(CodedValue.entity_id))
                .join(model, col(model.id) == col(CodedValue.entity_id))
                .join(Collection, col(Collection.id) == col(model.collection_id))
                .where(
                    col(CodedValue.entity_type) == entity_type,
                    col(CodedValue.concept_iri).in_(chunk),
                    col(model.deleted_at).is_(None),
                    col(Collection.deleted_at).is_(None),
                    col(Collection.visibility).in_(list(visible)),
                )
                .distinct()
            )
            if len(chunks) == 1:  # the usual case: let the database count
                counted = sa.select(sa.func.count()).select_from(query.subquery())
                total += int(conn.execute(counted).scalar_one())
            else:
                seen.update((entity_type, row[0]) for row in conn.execute(query))
    return total + len(seen)
