"""The mapping pipeline per field, with a cache of repeated values."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Mapping as MappingABC
from typing import Any, cast

from ontology import vocab
from ontology.fields import FieldSpec
from ontology.mapping import (
    HEAD_CONFIDENCE,
    Candidate,
    FieldFilter,
    Mapping,
    build,
    curator_candidate,
    label_candidate,
)
from ontology.normalise import normalise
from ontology.rules import Rule
from ontology.sssom_io import TableIndex
from ontology.store import TermStore

CACHE_LIMIT = 500_000  # entries per field; realistic data repeats a few thousand values
_HEAD = re.compile(r"\s*[,;(\[]")
_ICD_CODE = re.compile(r"[A-Z][0-9]{2}\.?[0-9A-Z]{1,5}")
# The classifier names its classes; our vocabulary's local names differ for a few.
_CLASSIFIER_NAMES = {
    "DWI": "dwi",
    "BOLD": "bold",
    "ASL": "asl",
    "MRA": "angiography",
    "fieldmap": "fmap",
}
Classify = Callable[[str, MappingABC[str, Any]], "tuple[str | None, str | None, float, str]"]


class Mapper:
    def __init__(
        self,
        store: TermStore,
        fields: MappingABC[str, FieldSpec],
        rules: Sequence[Rule],
        tables: TableIndex,
        classify: Classify | None,
    ) -> None:
        self.store = store
        self.filters = {name: FieldFilter(store, spec) for name, spec in fields.items()}
        self.rules = {name: [r for r in rules if r.field == name] for name in fields}
        self.tables = tables
        self.classify = classify
        self.decisions: dict[tuple[str, str], str | None] = {}
        self.caches: dict[str, dict[object, Mapping]] = {name: {} for name in fields}

    def set_decisions(self, decisions: MappingABC[tuple[str, str], str | None]) -> None:
        """Replace the curator decisions; keys are (field, value as written)."""
        table: dict[tuple[str, str], str | None] = {}
        for (field, value), iri in decisions.items():
            table[(field, value)] = iri
            table.setdefault((field, normalise(value)), iri)
        self.decisions = table
        for cache in self.caches.values():
            cache.clear()

    def map(self, field: str, value: str, context: MappingABC[str, Any]) -> Mapping:
        cache = self.caches.get(field)
        if cache is None:
            raise ValueError(f"unknown field {field!r}; known: {sorted(self.caches)}")
        key: object = (value, _freeze(context)) if context else value
        found = cache.get(key)
        if found is None:
            if len(cache) >= CACHE_LIMIT:
                cache.clear()  # cheaper than LRU bookkeeping on every hit
            found = cache[key] = build(self.store, field, value, self._find(field, value, context))
        return found

    def map_many(self, field: str, values: Iterable[str]) -> list[Mapping]:
        """Map values without context; the hot loop is one dict look-up per repeated value."""
        cache = self.caches.get(field)
        if cache is None:
            raise ValueError(f"unknown field {field!r}; known: {sorted(self.caches)}")
        get, empty = cache.get, cast(dict[str, Any], {})
        return [get(v) or self.map(field, v, empty) for v in values]

    def _find(self, field: str, value: str, context: MappingABC[str, Any]) -> Candidate:
        text = (value or "").strip()
        key = normalise(text)
        accept = self.filters[field]
        steps: tuple[Callable[[], Candidate | None], ...] = (
            lambda: curator_candidate(self.decisions, field, text, key),
            lambda: self._exact(accept, text),
            lambda: self._table(accept, text, key),
            lambda: label_candidate(self.store, accept, key) if key else None,
            lambda: self._classified(field, text, context),
            lambda: self._rule(field, text, context),
            lambda: self._head(accept, text),
        )
        for step in steps:
            found = step()
            if found is not None:
                return found
        return Candidate(None, "unmapped", 0.0)

    def _exact(self, accept: FieldFilter, text: str) -> Candidate | None:
        if not text:
            return None
        iri = _explicit_iri(self.store, text)
        if iri is not None:
            if accept.rank(iri, explicit=True) is None:
                return None
            known = iri in self.store
            return Candidate(iri, "exact-code", 1.0 if known else 0.9, source="code")
        chosen = accept.best(self.store.by_code(text))
        if chosen is not None:
            return Candidate(chosen[0], "exact-code", 0.9 if chosen[1] else 1.0, source="code")
        return self._truncated(accept, text)

    def _truncated(self, accept: FieldFilter, text: str) -> Candidate | None:
        """An ICD code we lack (a national extension such as ICD-10-GM's G35.0) maps to its
        nearest ancestor code: less surely, and as a broader match."""
        code = text.upper().replace(" ", "")
        if not _ICD_CODE.fullmatch(code):
            return None
        for end in range(len(code) - 1, 2, -1):
            chosen = accept.best(self.store.by_code(code[:end].rstrip(".")))
            if chosen is not None:
                return Candidate(
                    chosen[0], "exact-code", 0.8, "skos:broadMatch", source="code prefix"
                )
        return None

    def _table(self, accept: FieldFilter, text: str, key: str) -> Candidate | None:
        if not self.tables or not text:
            return None
        for row in self.tables.lookup(text, key):
            if accept.rank(row.object_iri, explicit=True) is not None:
                return Candidate(
                    row.object_iri, "mapping-table", row.confidence, row.predicate,
                    row.justification, row.source,
                )  # fmt: skip
        return None

    def _classified(self, field: str, text: str, context: MappingABC[str, Any]) -> Candidate | None:
        if self.classify is None or field not in ("sequence_type", "contrast") or not text:
            return None
        sequence, contrast, confidence, reason = self.classify(text, context)
        if field == "contrast":
            iri = vocab.CONTRAST + contrast if contrast else None
        else:
            iri = vocab.SEQUENCE + _CLASSIFIER_NAMES.get(sequence, sequence) if sequence else None
        if iri is None or iri not in self.store:
            return None
        return Candidate(iri, "rule", confidence, source=f"ontology.classify: {reason}")

    def _rule(self, field: str, text: str, context: MappingABC[str, Any]) -> Candidate | None:
        for rule in self.rules.get(field, ()):
            if rule.matches(text, context):
                return Candidate(rule.concept, "rule", rule.confidence, source=f"rule {rule.id}")
        return None

    def _head(self, accept: FieldFilter, text: str) -> Candidate | None:
        """A qualified label maps, less surely and more broadly, to its head."""
        cut = _HEAD.search(text)
        head = normalise(text[: cut.start()]) if cut and cut.start() > 0 else ""
        found = label_candidate(self.store, accept, head, source="head") if head else None
        if found is None:
            return None
        return Candidate(
            found.iri, "label", min(found.confidence, HEAD_CONFIDENCE), "skos:broadMatch"
        )


def _freeze(context: MappingABC[str, Any]) -> tuple[tuple[str, object], ...]:
    """A hashable cache key for a context (ImageType arrives as a list)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in context.items()))


def _explicit_iri(store: TermStore, text: str) -> str | None:
    """The IRI a value names as an IRI or a CURIE with a known prefix."""
    if text.startswith(("http://", "https://")):
        return text
    if ":" in text:
        return store.prefixes.expand(text)
    return None


def classifier() -> Classify | None:
    """Adapter to `ontology.classify.classify_series` (another module's), if present."""
    try:
        from ontology.classify import classify_series
    except ImportError:
        return None

    def run(text: str, context: MappingABC[str, Any]) -> tuple[str | None, str | None, float, str]:
        agent = context.get("contrast_agent")
        result = classify_series(
            text,
            protocol=context.get("protocol"),
            image_type=context.get("image_type") or (),
            sequence_name=context.get("sequence_name"),
            repetition_time_ms=context.get("tr"),
            echo_time_ms=context.get("te"),
            inversion_time_ms=context.get("ti"),
            flip_angle_deg=context.get("flip"),
            modality=context.get("modality", "MR"),
            contrast_agent=bool(agent) if agent is not None else None,
        )
        return result.sequence_type, result.contrast, result.confidence, result.reason

    return run
