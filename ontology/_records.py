"""Plain records of what a vocabulary file says, before the store indexes them.

Named tuples, not dataclasses: ICD-10-CM alone makes 98,000 of them at every start.
"""

from __future__ import annotations

from typing import NamedTuple


class TermRecord(NamedTuple):
    """One concept: preferred label, synonyms, parents, schemes and extra codes (notations)."""

    iri: str
    label: str
    synonyms: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()  # matched, never shown: retired codes, related synonyms
    parents: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    notations: tuple[str, ...] = ()


class SchemeRecord(NamedTuple):
    """A concept scheme or ontology: its IRI, title and version."""

    iri: str
    title: str
    version: str = ""


class FileContent(NamedTuple):
    """Everything read from one vocabulary file, plus the CURIE prefixes it declares."""

    terms: tuple[TermRecord, ...]
    schemes: tuple[SchemeRecord, ...] = ()
    prefixes: tuple[tuple[str, str], ...] = ()  # (prefix, namespace)
