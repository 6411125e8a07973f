"""JSON-LD to RDF through pyld with a document loader that refuses the network, and SHACL checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyld import jsonld
from pyshacl import validate
from rdflib import Graph

CONTEXTS = Path(__file__).resolve().parents[2] / "catalogue" / "exports" / "contexts"
LOCAL_CONTEXTS: dict[str, Path] = {}


class RemoteContextError(Exception):
    """A JSON-LD document asked for a context that is not stored locally."""


def offline_loader(url: str, _options: dict[str, Any] | None = None) -> dict[str, Any]:
    path = LOCAL_CONTEXTS.get(url)
    if path is None:
        raise RemoteContextError(f"refusing to fetch {url}")
    document = json.loads(path.read_text())
    return {"contextUrl": None, "documentUrl": url, "document": document}


def jsonld_graph(doc: dict[str, Any] | str) -> Graph:
    data = json.loads(doc) if isinstance(doc, str) else doc
    options = {"format": "application/n-quads", "documentLoader": offline_loader}
    nquads = jsonld.to_rdf(data, options)
    return Graph().parse(data=nquads, format="nt")


def shacl(data: Graph, *shapes: Path) -> tuple[bool, str]:
    shapes_graph = Graph()
    for path in shapes:
        shapes_graph.parse(path)
    ok, _report, text = validate(data, shacl_graph=shapes_graph, do_owl_imports=False)
    return bool(ok), str(text)
