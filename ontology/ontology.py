"""The entry point: load vocabularies, map field values, look terms up, export mappings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Mapping as MappingABC
from pathlib import Path
from typing import Any

from ontology._load import BUNDLED, BUNDLED_INDEX, DATA, load_file
from ontology._records import SchemeRecord
from ontology.fields import DEFAULT_FIELDS, FieldSpec
from ontology.mapper import Mapper, classifier
from ontology.mapping import Mapping
from ontology.prefixes import PrefixMap
from ontology.rules import load_rules
from ontology.sssom_io import TableIndex, read_table
from ontology.store import Term, TermStore, paused_gc

BUNDLED_RULES = DATA / "rules.json"


class Ontology:
    """Terms from the bundled vocabularies and the configured files, and the field mappers."""

    def __init__(self, store: TermStore, mapper: Mapper) -> None:
        self._store = store
        self._mapper = mapper
        self._cached = mapper.caches  # cleared in place, never replaced: safe to hold

    @classmethod
    def load(
        cls,
        extra_files: Sequence[Path] = (),
        mapping_tables: Sequence[Path] = (),
        *,
        rules: Sequence[Path] = (),
        curator: MappingABC[tuple[str, str], str | None] | None = None,
        fields: MappingABC[str, FieldSpec] | None = None,
        cache_dir: Path | None = None,
        bundled: bool = True,
    ) -> Ontology:
        """Load the bundled vocabularies and the user's ontology files, rules and SSSOM tables.

        Errors in any file raise `OntologyError` naming the file and line. `cache_dir` keeps a
        parsed index of each user ontology so the next start skips parsing unchanged files.
        """
        store = TermStore(PrefixMap())
        with paused_gc():
            for name in BUNDLED if bundled else ():
                store.add(load_file(DATA / name, BUNDLED_INDEX, bundled=True))
            for path in extra_files:
                store.add(load_file(Path(path), cache_dir))
        fields = fields or DEFAULT_FIELDS
        rule_files = [*([BUNDLED_RULES] if bundled else []), *map(Path, rules)]
        all_rules = [r for f in rule_files for r in load_rules(f, _known(store), fields)]
        tables = TableIndex(row for table in mapping_tables for row in read_table(Path(table)))
        mapper = Mapper(store, fields, all_rules, tables, classifier())
        if curator:
            mapper.set_decisions(curator)
        return cls(store, mapper)

    # --- mapping -------------------------------------------------------------------------
    @property
    def fields(self) -> list[str]:
        return sorted(self._mapper.filters)

    def map(self, field: str, value: str, /, **context: Any) -> Mapping:
        """Map one value of a field; `context` holds other fields rules and classifiers read
        (``series_description``, ``protocol``, ``image_type``, ``tr``, ``te``, ``ti``...)."""
        if not context:  # a repeated value costs two dict look-ups, not a call into the mapper
            cache = self._cached.get(field)
            found = cache.get(value) if cache is not None else None
            if found is not None:
                return found
        return self._mapper.map(field, value, context)

    def map_many(self, field: str, values: Iterable[str]) -> list[Mapping]:
        """Map many values of one field without context (the fast path for bulk remapping)."""
        return self._mapper.map_many(field, values)

    def set_curator_decisions(self, decisions: MappingABC[tuple[str, str], str | None]) -> None:
        """Replace the curator decisions: (field, original value) -> concept IRI, or None for
        "no concept applies". Clears the mapping cache."""
        self._mapper.set_decisions(decisions)

    # --- terms ---------------------------------------------------------------------------
    def iri(self, curie_or_iri: str) -> str | None:
        """The IRI for a CURIE (any known prefix or alias) or an IRI, or None."""
        text = curie_or_iri.strip()
        if text.startswith(("http://", "https://", "urn:", "file:")):
            return text
        return self._store.prefixes.expand(text)

    def curie(self, iri: str) -> str | None:
        return self._store.prefixes.compress(iri)

    def term(self, curie_or_iri: str) -> Term | None:
        iri = self.iri(curie_or_iri)
        return self._store.term(iri) if iri else None

    def search(self, prefix: str, limit: int = 10, field: str | None = None) -> list[Term]:
        """Autocomplete: terms whose label or synonym starts with `prefix` (exact match first,
        then preferred labels, then synonyms, shorter first), optionally only a field's."""
        accept = None
        if field is not None:
            rank = self._mapper.filters[field].rank
            accept = lambda iri: rank(iri) is not None  # noqa: E731
        iris = self._store.search(prefix, limit, accept)
        return [t for iri in iris if (t := self._store.term(iri)) is not None]

    def ancestors(self, iri: str) -> tuple[str, ...]:
        """Every ancestor of a concept (not itself), nearest first."""
        return self._store.closure(iri)[1:]

    def closure(self, iri: str) -> tuple[str, ...]:
        """The concept and its ancestors: what a stored coded value is indexed under."""
        return self._store.closure(iri)

    def descendants(self, iri: str) -> tuple[str, ...]:
        return self._store.descendants(iri)

    @property
    def vocabularies(self) -> list[SchemeRecord]:
        """Concept schemes and ontologies loaded, with their titles and versions."""
        return sorted(self._store.schemes.values(), key=lambda s: s.iri)

    @property
    def prefixes(self) -> dict[str, str]:
        return self._store.prefixes.namespaces

    def __len__(self) -> int:
        return len(self._store)

    def warm(self) -> None:
        """Build the look-up indexes now rather than on the first mapping or search."""
        self._store.warm()

    # --- export --------------------------------------------------------------------------
    def export_sssom(self, mappings: Iterable[Mapping], path: Path, **metadata: Any) -> None:
        """Write mapping results as an SSSOM/TSV file; see `ontology.sssom_export.export`."""
        from ontology.sssom_export import export

        export(list(mappings), Path(path), self._store.prefixes, **metadata)


def _known(store: TermStore) -> Any:
    """For rules: a CURIE or IRI of a concept in the store, else None."""

    def expand(text: str) -> str | None:
        iri = text if text.startswith(("http://", "https://")) else store.prefixes.expand(text)
        return iri if iri is not None and iri in store else None

    return expand
