"""What a generator builds before it is written: concepts and the scheme that holds them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ontology._records import TermRecord


@dataclass
class Concept:
    """One concept as written to Turtle; labels carry a language tag ("" for none)."""

    iri: str
    label: str
    alt: set[tuple[str, str]] = field(default_factory=set)
    hidden: set[tuple[str, str]] = field(default_factory=set)
    notations: set[tuple[str, str]] = field(default_factory=set)  # (value, datatype IRI or "")
    broader: set[str] = field(default_factory=set)
    schemes: set[str] = field(default_factory=set)

    def add_alt(self, text: str, lang: str = "en") -> None:
        if text and text != self.label:
            self.alt.add((text, lang))

    def record(self) -> TermRecord:
        """The load-index row, equal to what the RDF reader makes of the written Turtle."""
        synonyms = {text for text, _ in self.alt} - {self.label}
        hidden = {text for text, _ in self.hidden} - synonyms - {self.label}
        return TermRecord(
            iri=self.iri,
            label=self.label,
            synonyms=tuple(sorted(synonyms)),
            hidden=tuple(sorted(hidden)),
            parents=tuple(sorted(self.broader - {self.iri})),
            schemes=tuple(sorted(self.schemes)),
            notations=tuple(sorted({value for value, _ in self.notations})),
        )


@dataclass
class Vocabulary:
    """A concept scheme and its concepts: one generated file."""

    name: str  # file stem, e.g. "dicom-anatomy"
    scheme: str
    title: str
    version: str
    source: str
    licence: str
    note: str
    concepts: dict[str, Concept] = field(default_factory=dict)
    extra_schemes: dict[str, str] = field(default_factory=dict)  # IRI -> title
    compress: bool = False

    def concept(self, iri: str, label: str) -> Concept:
        """The concept with this IRI, created with this label when new."""
        found = self.concepts.get(iri)
        if found is None:
            found = self.concepts[iri] = Concept(iri, label, schemes={self.scheme})
        return found
