"""Ontology: vocabularies, mappings and the ancestor closure (a leaf: rdflib and stdlib)."""
