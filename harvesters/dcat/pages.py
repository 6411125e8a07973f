"""One page of a DCAT catalogue: its RDF in Turtle, RDF/XML, JSON-LD or N-Triples, and the
address of the next page (Hydra: `hydra:next` of a `hydra:PartialCollectionView`, or the older
`hydra:nextPage`).

The serialisation comes from the answer's Content-Type, else from the source's `format`, else
from the address's extension. RDF/XML goes through `harvesters.safexml` first (no DTDs), JSON-LD
through `jsonld` (no remote contexts).
"""

from __future__ import annotations

from urllib.parse import urljoin

from rdflib import Graph, Namespace, URIRef

from harvesters.dcat.jsonld import JsonLdError, LocalContexts, to_graph
from harvesters.safexml import UnsafeXmlError
from harvesters.safexml import parse as parse_xml

HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
MEDIA_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/n-triples": "nt",
}
EXTENSIONS = {".ttl": "turtle", ".rdf": "xml", ".xml": "xml", ".jsonld": "json-ld", ".nt": "nt"}
ACCEPT = (
    "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8, application/n-triples;q=0.7"
)


class BadPageError(ValueError):
    """The page cannot be read as RDF; the message says why."""


def serialisation(content_type: str, configured: str, url: str) -> str:
    if content_type in MEDIA_TYPES:
        return MEDIA_TYPES[content_type]
    if configured != "auto":
        return configured
    path = url.split("?", 1)[0].lower()
    for extension, name in EXTENSIONS.items():
        if path.endswith(extension):
            return name
    raise BadPageError(f"its serialisation is unknown (Content-Type {content_type[:80]!r})")


def parse_page(body: bytes, kind: str, url: str, contexts: LocalContexts) -> Graph:
    if kind == "json-ld":
        try:
            return to_graph(body, url, contexts)
        except JsonLdError as exc:
            raise BadPageError(str(exc)) from None
    if kind == "xml":
        try:
            parse_xml(body)
        except UnsafeXmlError as exc:
            raise BadPageError(str(exc)) from None
    graph = Graph()
    try:
        graph.parse(data=body, format=kind, publicID=url)
    except Exception as exc:  # rdflib's parsers raise many types (BadSyntax, SAX, ValueError)
        raise BadPageError(f"it is not valid {_NAMES[kind]}: {_first_line(exc)}") from None
    return graph


def next_page(graph: Graph, url: str) -> str | None:
    """The next page's absolute address, if the page names one."""
    for prop in (HYDRA.next, HYDRA.nextPage):
        for value in sorted(graph.objects(None, prop), key=str):
            if isinstance(value, URIRef) or str(value).strip():
                return urljoin(url, str(value))
    return None


_NAMES = {"turtle": "Turtle", "xml": "RDF/XML", "nt": "N-Triples", "json-ld": "JSON-LD"}


def _first_line(exc: Exception) -> str:
    """Where and what, without the quoted input rdflib appends ("... at ^ in: ...")."""
    lines = str(exc).strip().split("\n")
    text = " ".join(lines[:2]).split(" at ^", 1)[0].replace(" of <>:", ":")
    return text[:300] or type(exc).__name__
