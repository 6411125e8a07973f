"""JSON-LD to RDF without the network: contexts come from local copies, never fetched.

pyld expands the document with a document loader that knows only the contexts shipped in
`contexts/` (and those a source configures); any other URL is refused with a clear error. The
triples it produces become an rdflib graph.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyld import jsonld
from rdflib import BNode, Graph, Literal, URIRef

CONTEXTS = Path(__file__).with_name("contexts")
#: Context URLs (http and https alike) and the shipped copy that stands for each.
_SEMIC = "semiceu.github.io"
SHIPPED: dict[str, str] = {
    f"{_SEMIC}/DCAT-AP/releases/3.0.1/context/dcat-ap.jsonld": "dcat-ap-3.0.1.jsonld",
    f"{_SEMIC}/uri.semic.eu-generated/DCAT-AP/releases/3.0.0/html/examples/context.jsonld": (
        "dcat-ap-3-examples.jsonld"
    ),
    f"{_SEMIC}/DCAT-AP/releases/3.0.1/html/examples/context.jsonld": "dcat-ap-3-examples.jsonld",
}
MAX_DEPTH = 64  # JSON nested deeper than this is refused before expansion


class JsonLdError(ValueError):
    """The document cannot be read as JSON-LD; the message says why."""


class LocalContexts:
    """A pyld document loader over local files: `extra` maps further URLs to files."""

    def __init__(self, extra: Mapping[str, Path] | None = None) -> None:
        self.files = {key: CONTEXTS / name for key, name in SHIPPED.items()}
        self.files.update({_key(url): Path(path) for url, path in (extra or {}).items()})
        self.cache: dict[str, Any] = {}

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        path = self.files.get(_key(url))
        if path is None:
            raise jsonld.JsonLdError(
                f"context {url[:200]} is not available locally (contexts are never fetched; "
                "add a local copy with the source's `contexts` field)",
                "jsonld.LoadDocumentError",
                code="loading remote context failed",
            )
        if url not in self.cache:
            self.cache[url] = json.loads(path.read_text(encoding="utf-8"))
        return {"contextUrl": None, "documentUrl": url, "document": self.cache[url]}


def to_graph(body: bytes, base: str, loader: LocalContexts) -> Graph:
    """The RDF of a JSON-LD document (its named graphs merged into one graph)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise JsonLdError("it is not valid JSON") from None
    if _depth(document) > MAX_DEPTH:
        raise JsonLdError(f"its JSON is nested deeper than {MAX_DEPTH} levels")
    try:
        dataset = jsonld.to_rdf(document, {"documentLoader": loader, "base": base})
    except jsonld.JsonLdError as exc:
        raise JsonLdError(f"it is not valid JSON-LD: {_cause(exc)}") from None
    graph = Graph()
    for triples in dataset.values():  # named graphs merge into one
        for triple in triples:
            graph.add(
                (_term(triple["subject"]), _term(triple["predicate"]), _term(triple["object"]))
            )
    return graph


def _term(term: dict[str, str]) -> Any:
    """An rdflib term from pyld's dataset form."""
    if term["type"] == "IRI":
        return URIRef(term["value"])
    if term["type"] == "blank node":
        return BNode(term["value"].removeprefix("_:"))
    if term.get("language"):
        return Literal(term["value"], lang=term["language"])
    return Literal(term["value"], datatype=URIRef(term["datatype"]))


def _key(url: str) -> str:
    return url.split("://", 1)[-1].split("#", 1)[0]


def _depth(value: Any, level: int = 0) -> int:
    """How deep the JSON nests (stops counting past the limit)."""
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _cause(exc: BaseException) -> str:
    """The innermost message of a pyld error (it wraps the loader's), shortened."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    message = exc.args[0] if exc.args else type(exc).__name__
    return str(message).split("\n")[0][:300]
