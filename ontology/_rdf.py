"""Read RDF vocabularies (SKOS, OWL, RDFS in Turtle, RDF/XML, N-Triples, JSON-LD) with rdflib."""

from __future__ import annotations

import json
import xml.sax
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.term import Node

from ontology._records import FileContent, SchemeRecord, TermRecord
from ontology.errors import OntologyError

FORMATS = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".n3": "n3",
    ".nt": "nt",
    ".owl": "xml",
    ".rdf": "xml",
    ".xml": "xml",
    ".jsonld": "json-ld",
}
_OBO_IN_OWL = "http://www.geneontology.org/formats/oboInOwl#"
_EXACT = URIRef(_OBO_IN_OWL + "hasExactSynonym")
_LOOSE = tuple(URIRef(_OBO_IN_OWL + f"has{k}Synonym") for k in ("Related", "Broad", "Narrow"))
_PART_OF = URIRef("http://purl.obolibrary.org/obo/BFO_0000050")
_CLASS_TYPES = (SKOS.Concept, OWL.Class, RDFS.Class)
_NOT_TERMS = {OWL.Thing, OWL.Nothing}


def suffix_of(path: Path) -> str:
    """The format suffix, looking through a trailing ``.gz``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def parse_graph(path: Path, data: bytes) -> Graph:
    """Parse with rdflib; a syntax error becomes an OntologyError with the file's line."""
    fmt = FORMATS.get(suffix_of(path))
    if fmt is None:
        raise OntologyError(path, None, f"unknown ontology format {suffix_of(path)!r}")
    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(data=data, format=fmt, publicID=path.resolve().as_uri())
    except BadSyntax as e:
        raise OntologyError(path, e.lines + 1, f"Turtle syntax error: {e._why}") from e
    except xml.sax.SAXParseException as e:
        raise OntologyError(path, e.getLineNumber(), f"XML error: {e.getMessage()}") from e
    except json.JSONDecodeError as e:
        raise OntologyError(path, e.lineno, f"JSON error: {e.msg}") from e
    except Exception as e:  # rdflib's other parsers raise assorted types without a line
        raise OntologyError(path, None, f"cannot parse as {fmt}: {e}") from e
    return graph


def read_rdf(path: Path, data: bytes) -> FileContent:
    """Every concept or class in the file (its bytes already read), as plain records."""
    graph = parse_graph(path, data)
    default_scheme = _default_scheme(graph, path)
    subjects = _concept_subjects(graph)
    terms = [_term(graph, s, default_scheme) for s in sorted(subjects)]
    prefixes = tuple(sorted((p, str(ns)) for p, ns in graph.namespaces() if p))
    return FileContent(tuple(terms), _schemes(graph, default_scheme), prefixes)


def _concept_subjects(graph: Graph) -> set[URIRef]:
    found: set[URIRef] = set()
    for kind in _CLASS_TYPES:
        found.update(s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef))
    found.update(s for s in graph.subjects(SKOS.prefLabel, None) if isinstance(s, URIRef))
    return found - _NOT_TERMS - set(graph.subjects(OWL.deprecated, Literal(True)))


def _default_scheme(graph: Graph, path: Path) -> str:
    """Terms without skos:inScheme belong to the file's ontology (or, failing that, the file)."""
    for kind in (OWL.Ontology, SKOS.ConceptScheme):
        for s in sorted(s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef)):
            return str(s)
    return path.resolve().as_uri()


def _texts(graph: Graph, s: Node, *predicates: URIRef) -> list[Literal]:
    return [o for p in predicates for o in graph.objects(s, p) if isinstance(o, Literal)]


def _pick_label(labels: list[Literal]) -> Literal | None:
    """English or untagged first, then any language; ties broken by text for stable output."""
    ranked = sorted(labels, key=lambda lit: (lit.language not in (None, "en"), str(lit)))
    return ranked[0] if ranked else None


def _parents(graph: Graph, s: URIRef) -> set[str]:
    found = {str(o) for o in graph.objects(s, SKOS.broader) if isinstance(o, URIRef)}
    found.update(str(o) for o in graph.subjects(SKOS.narrower, s) if isinstance(o, URIRef))
    for o in graph.objects(s, RDFS.subClassOf):
        if isinstance(o, URIRef):
            found.add(str(o))
        elif isinstance(o, BNode) and (o, OWL.onProperty, _PART_OF) in graph:
            # part_of some X: the partonomy that makes "head" find "brain" in UBERON-style files
            found.update(
                str(x) for x in graph.objects(o, OWL.someValuesFrom) if isinstance(x, URIRef)
            )
    return found - {str(s), str(OWL.Thing)}


def _term(graph: Graph, s: URIRef, default_scheme: str) -> TermRecord:
    labels = _texts(graph, s, SKOS.prefLabel) or _texts(graph, s, RDFS.label)
    chosen = _pick_label(labels)
    label = str(chosen) if chosen is not None else _local_name(str(s))
    others = _texts(graph, s, SKOS.prefLabel, RDFS.label, SKOS.altLabel, _EXACT)
    synonyms = {str(o) for o in others} - {label}
    hidden = {str(o) for o in _texts(graph, s, SKOS.hiddenLabel, *_LOOSE)} - synonyms - {label}
    schemes = {str(o) for o in graph.objects(s, SKOS.inScheme) if isinstance(o, URIRef)}
    return TermRecord(
        iri=str(s),
        label=label,
        synonyms=tuple(sorted(synonyms)),
        hidden=tuple(sorted(hidden)),
        parents=tuple(sorted(_parents(graph, s))),
        schemes=tuple(sorted(schemes or {default_scheme})),
        notations=tuple(sorted({str(o) for o in _texts(graph, s, SKOS.notation)})),
    )


def _schemes(graph: Graph, default_scheme: str) -> tuple[SchemeRecord, ...]:
    kinds = (OWL.Ontology, SKOS.ConceptScheme)
    iris = {str(s) for k in kinds for s in graph.subjects(RDF.type, k) if isinstance(s, URIRef)}
    out = []
    for iri in sorted(iris | {default_scheme}):
        node = URIRef(iri)
        title = _pick_label(
            _texts(graph, node, URIRef("http://purl.org/dc/terms/title"), RDFS.label)
        )
        version = _pick_label(_texts(graph, node, OWL.versionInfo))
        out.append(SchemeRecord(iri, str(title or _local_name(iri)), str(version or "")))
    return tuple(out)


def _local_name(iri: str) -> str:
    cut = max(iri.rfind("/"), iri.rfind("#"), iri.rfind("_"))
    return iri[cut + 1 :] or iri
