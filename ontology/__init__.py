"""Ontology: vocabularies, mappings and the ancestor closure (a leaf: rdflib and stdlib).

from ontology import Ontology
onto = Ontology.load(extra_files=[...], mapping_tables=[...])
onto.map("body_part", "Kopf").closure      # head and everything above it
"""

from ontology.errors import OntologyError
from ontology.fields import DEFAULT_FIELDS, FieldSpec
from ontology.mapping import METHODS, Mapping, Method
from ontology.ontology import Ontology
from ontology.store import Term

__all__ = [
    "DEFAULT_FIELDS",
    "METHODS",
    "FieldSpec",
    "Mapping",
    "Method",
    "Ontology",
    "OntologyError",
    "Term",
]
