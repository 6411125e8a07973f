"""A `dcat:Dataset` (with its distributions) in an RDF graph → a dataset record with
DataCite-shaped metadata (the `attributes` of DataCite JSON).

DCAT-AP says more than DataCite holds; what maps is kept under DataCite's names: titles and
descriptions with their languages, keywords and themes as subjects, issued/modified as dates,
publisher, creators and contact points, licences and access rights, versions, identifiers; the
distributions give `formats`, `sizes` and their download addresses as related identifiers
(`HasPart`, type URL), the DataCite 4.5 schema having no field of its own for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDFS, SKOS
from rdflib.term import Node

from catalogue.records import DatasetRecord
from harvesters.datacite_shape import DOI, compact

ADMS = Namespace("http://www.w3.org/ns/adms#")
DCAT3 = Namespace("http://www.w3.org/ns/dcat#")  # DCAT 3 terms rdflib's closed DCAT lacks
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DATASET_TYPES = (DCAT.Dataset, DCAT3.DatasetSeries)
YEAR = re.compile(r"^(\d{4})")


class MappingError(ValueError):
    """A dataset node cannot make a record; the message says what is missing."""


def dataset_nodes(graph: Graph) -> Iterator[Node]:
    """Every node typed as a DCAT dataset (or dataset series), each once, in a stable order."""
    found = {s for kind in DATASET_TYPES for s in graph.subjects(RDF.type, kind)}
    yield from sorted(found, key=str)


def native_id(graph: Graph, node: Node) -> str:
    """The dataset's IRI; a blank node is known by its `dct:identifier`."""
    if isinstance(node, URIRef):
        return str(node)
    identifier = _literals(graph, node, DCTERMS.identifier)
    if identifier:
        return identifier[0]
    raise MappingError("a dataset without an IRI or a dct:identifier")


def dataset_record(graph: Graph, node: Node, language: str) -> DatasetRecord:
    key = native_id(graph, node)
    titles = _texts(graph, node, DCTERMS.title)
    if not titles:
        raise MappingError("a dataset without a dct:title")
    descriptions = _texts(graph, node, DCTERMS.description)
    identifier = _identifier(graph, node) or (key if isinstance(node, URIRef) else None)
    landing = _first_iri(graph, node, DCAT.landingPage, FOAF.page)
    if landing is None and key.startswith(("http://", "https://")):
        landing = key
    meta = _meta(graph, node, titles, descriptions, identifier)
    if landing:
        meta["url"] = landing
    return DatasetRecord(
        native_id=key[:512],
        title=_preferred(titles, language)[:1024],
        description=_preferred(descriptions, language) if descriptions else "",
        identifier=identifier[:512] if identifier else None,
        landing_page=landing[:2048] if landing else None,
        meta=compact(meta),
    )


def _meta(
    graph: Graph,
    node: Node,
    titles: list[tuple[str, str | None]],
    descriptions: list[tuple[str, str | None]],
    identifier: str | None,
) -> dict[str, Any]:
    issued = _literals(graph, node, DCTERMS.issued)
    modified = _literals(graph, node, DCTERMS.modified)
    year = next((int(m.group(1)) for d in issued if (m := YEAR.match(d))), None)
    doi = next((m.group(1) for i in _all_identifiers(graph, node) if (m := DOI.match(i))), None)
    return {
        "doi": doi,
        "titles": [_lang({"title": t}, lang) for t, lang in titles],
        "descriptions": [
            _lang({"description": d, "descriptionType": "Abstract"}, lang)
            for d, lang in descriptions
        ],
        "creators": [{"name": n} for n in _agents(graph, node, DCTERMS.creator)],
        "contributors": [
            {"name": n, "contributorType": "ContactPerson"}
            for n in _agents(graph, node, DCAT.contactPoint)
        ],
        "publisher": next(({"name": n} for n in _agents(graph, node, DCTERMS.publisher)), None),
        "publicationYear": str(year) if year is not None else None,
        "dates": [{"date": d, "dateType": "Issued"} for d in issued]
        + [{"date": d, "dateType": "Updated"} for d in modified],
        "subjects": _subjects(graph, node),
        "language": next(iter(_codes(graph, node, DCTERMS.language)), None),
        "version": next(iter(_literals(graph, node, DCAT3.version, OWL.versionInfo)), None),
        "rightsList": _rights(graph, node),
        "alternateIdentifiers": [
            {
                "alternateIdentifier": i,
                "alternateIdentifierType": "DOI" if DOI.match(i) else "Other",
            }
            for i in _all_identifiers(graph, node)
            if i != identifier
        ],
        "types": {"resourceTypeGeneral": "Dataset"},
        **_distributions(graph, node),
    }


def _distributions(graph: Graph, node: Node) -> dict[str, Any]:
    urls: list[str] = []
    formats: list[str] = []
    sizes: list[str] = []
    for dist in sorted(graph.objects(node, DCAT.distribution), key=str):
        download = _iris_or_literals(graph, dist, DCAT.downloadURL)
        urls += download or _iris_or_literals(graph, dist, DCAT.accessURL)
        formats += _codes(graph, dist, DCAT.mediaType) + _codes(graph, dist, DCTERMS.format)
        sizes += [f"{size} bytes" for size in _literals(graph, dist, DCAT.byteSize)]
    return {
        "relatedIdentifiers": [
            {"relatedIdentifier": u, "relatedIdentifierType": "URL", "relationType": "HasPart"}
            for u in dict.fromkeys(urls)
        ],
        "formats": list(dict.fromkeys(formats)),
        "sizes": sizes,
    }


def _subjects(graph: Graph, node: Node) -> list[dict[str, str]]:
    found = [_lang({"subject": k}, lang) for k, lang in _texts(graph, node, DCAT.keyword)]
    for theme in sorted(graph.objects(node, DCAT.theme), key=str):
        label = _label(graph, theme)
        entry = {"subject": label or str(theme)}
        if isinstance(theme, URIRef):
            entry["valueUri"] = str(theme)
        found.append(entry)
    return found


def _rights(graph: Graph, node: Node) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    distributions = list(graph.objects(node, DCAT.distribution))
    for holder in (node, *distributions):
        for prop in (DCTERMS.license, DCTERMS.accessRights, DCTERMS.rights):
            for value in graph.objects(holder, prop):
                entry = {"rights": _label(graph, value) or str(value)}
                if isinstance(value, URIRef):
                    entry["rightsUri"] = str(value)
                if entry not in found:
                    found.append(entry)
    return found


def _identifier(graph: Graph, node: Node) -> str | None:
    """The partner's own identifier as written: a DOI among them first."""
    found = _all_identifiers(graph, node)
    return next((i for i in found if DOI.match(i)), found[0] if found else None)


def _all_identifiers(graph: Graph, node: Node) -> list[str]:
    found = _literals(graph, node, DCTERMS.identifier)
    for other in graph.objects(node, ADMS.identifier):
        found += _literals(graph, other, SKOS.notation) or (
            [str(other)] if isinstance(other, URIRef) else []
        )
    return list(dict.fromkeys(found))


def _agents(graph: Graph, node: Node, prop: URIRef) -> list[str]:
    """Names of the agents (foaf:name, vcard:fn, rdfs:label; or a literal given directly)."""
    names: list[str] = []
    for agent in graph.objects(node, prop):
        if isinstance(agent, Literal):
            names.append(str(agent))
            continue
        name = _label(graph, agent, FOAF.name, VCARD.fn, VCARD["organization-name"])
        if name:
            names.append(name)
        elif isinstance(agent, URIRef):
            names.append(str(agent))
    return list(dict.fromkeys(names))


def _label(graph: Graph, node: Node, *props: URIRef) -> str | None:
    for prop in (*props, SKOS.prefLabel, RDFS.label, FOAF.name, RDF.value):
        for value in graph.objects(node, prop):
            if isinstance(value, Literal) and str(value).strip():
                return " ".join(str(value).split())
    return None


def _codes(graph: Graph, node: Node, prop: URIRef) -> list[str]:
    """Values that name a code: a literal, an IRI's last segment, or a node's label/value."""
    found: list[str] = []
    for value in graph.objects(node, prop):
        if isinstance(value, Literal):
            found.append(str(value))
        elif isinstance(value, URIRef):
            found.append(re.split(r"[/#]", str(value).rstrip("/"))[-1])
        elif isinstance(value, BNode) and (label := _label(graph, value)):
            found.append(label)
    return found


def _texts(graph: Graph, node: Node, prop: URIRef) -> list[tuple[str, str | None]]:
    found = [v for v in graph.objects(node, prop) if isinstance(v, Literal) and str(v).strip()]
    found.sort(key=lambda v: (str(v), v.language or ""))
    return [(" ".join(str(v).split()), v.language) for v in found]


def _literals(graph: Graph, node: Node, *props: URIRef) -> list[str]:
    return [
        str(v).strip()
        for prop in props
        for v in sorted(graph.objects(node, prop), key=str)
        if isinstance(v, Literal) and str(v).strip()
    ]


def _iris_or_literals(graph: Graph, node: Node, prop: URIRef) -> list[str]:
    return [str(v) for v in sorted(graph.objects(node, prop), key=str) if str(v).strip()]


def _first_iri(graph: Graph, node: Node, *props: URIRef) -> str | None:
    for prop in props:
        for value in sorted(graph.objects(node, prop), key=str):
            if isinstance(value, URIRef | Literal) and str(value).startswith(
                ("http://", "https://")
            ):
                return str(value)
    return None


def _preferred(texts: list[tuple[str, str | None]], language: str) -> str:
    """The text in `language`, else one without a language, else the first."""
    for wanted in (language, None):
        for text, lang in texts:
            if lang == wanted or (wanted and lang and lang.lower().startswith(wanted)):
                return text
    return texts[0][0]


def _lang(entry: dict[str, str], lang: str | None) -> dict[str, str]:
    return {**entry, "lang": lang} if lang else entry
