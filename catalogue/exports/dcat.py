"""DCAT-AP 3 (with HealthDCAT-AP properties where the data has them) as an rdflib graph.

Images stay at their sites, so a dataset's distributions are its per-site access routes: each names
where and on what conditions an authorised user requests the images. Every linked resource is
typed, as the DCAT-AP range shapes require.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from catalogue.exports.datacite import to_datacite_json
from catalogue.exports.view import AccessCondition, DatasetView

DCAT = Namespace("http://www.w3.org/ns/dcat#")  # DCAT 3 (rdflib knows DCAT 2)
HEALTH = Namespace("http://healthdataportal.eu/ns/health#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
ACCESS_RIGHT = Namespace("http://publications.europa.eu/resource/authority/access-right/")
PREFIXES = {
    "dcat": DCAT,
    "dct": DCTERMS,
    "foaf": FOAF,
    "skos": SKOS,
    "xsd": XSD,
    "adms": ADMS,
    "healthdcatap": HEALTH,
    "hydra": HYDRA,
}
#: media types and rdflib serialiser names
FORMATS = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/rdf+xml": "pretty-xml",
}
JSONLD_CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}


def new_graph() -> Graph:
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    return graph


def serialise(graph: Graph, media_type: str) -> bytes:
    """The graph in one of `FORMATS` (JSON-LD with an inline context: nothing to fetch)."""
    name = FORMATS[media_type]
    extra: dict[str, Any] = {"context": JSONLD_CONTEXT, "auto_compact": True}
    out: bytes = graph.serialize(
        format=name, encoding="utf-8", **(extra if name == "json-ld" else {})
    )
    return out


def dataset_graph(view: DatasetView, graph: Graph | None = None) -> Graph:
    """The dataset (or version) as a `dcat:Dataset` with its agents, licence and access routes."""
    graph = graph if graph is not None else new_graph()
    meta = to_datacite_json(view)
    node = URIRef(view.iri)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.title, Literal(meta["titles"][0]["title"])))
    graph.add((node, DCTERMS.description, Literal(_description(view, meta))))
    graph.add((node, DCTERMS.identifier, Literal(view.cite_as)))
    graph.add((node, DCAT.landingPage, _typed(graph, view.iri, FOAF.Document)))
    graph.add((node, DCTERMS.publisher, _agent(graph, meta["publisher"]["name"], None)))
    for creator in meta["creators"]:
        graph.add((node, DCTERMS.creator, _agent(graph, creator["name"], _orcid(creator))))
    if view.published_at:
        graph.add((node, DCTERMS.issued, Literal(view.published_at.date(), datatype=XSD.date)))
    graph.add((node, DCTERMS.modified, Literal(view.modified.date(), datatype=XSD.date)))
    _subjects(graph, node, meta.get("subjects", []))
    _versions(graph, node, view, meta["titles"][0]["title"])
    _related(graph, node, meta.get("relatedIdentifiers", []))
    _access(graph, node, view, _licence(meta))
    if view.member_count is not None:
        records = Literal(view.member_count, datatype=XSD.nonNegativeInteger)
        graph.add((node, HEALTH.numberOfRecords, records))
    return graph


def catalogue_graph(
    node_url: str,
    name: str,
    datasets: Iterable[DatasetView],
    page: Mapping[str, str | int | None],
) -> Graph:
    """One page of the node's catalogue: a `dcat:Catalog` with a Hydra partial view."""
    graph = new_graph()
    catalogue = URIRef(f"{node_url.rstrip('/')}/catalog")
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, Literal(name)))
    graph.add((catalogue, DCTERMS.description, Literal(f"Imaging datasets published by {name}.")))
    graph.add((catalogue, DCTERMS.publisher, _agent(graph, name, None)))
    graph.add((catalogue, FOAF.homepage, _typed(graph, node_url, FOAF.Document)))
    for view in datasets:
        dataset_graph(view, graph)
        graph.add((catalogue, DCAT.dataset, URIRef(view.iri)))
    _hydra(graph, catalogue, page)
    return graph


def _hydra(graph: Graph, catalogue: URIRef, page: Mapping[str, str | int | None]) -> None:
    graph.add((catalogue, RDF.type, HYDRA.Collection))
    if page.get("total") is not None:
        total = Literal(int(page["total"] or 0), datatype=XSD.nonNegativeInteger)
        graph.add((catalogue, HYDRA.totalItems, total))
    view = URIRef(str(page["self"]))
    graph.add((catalogue, HYDRA.view, view))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    for key, prop in (("first", HYDRA.first), ("next", HYDRA.next)):
        if page.get(key):
            graph.add((view, prop, URIRef(str(page[key]))))


def _typed(graph: Graph, iri: str, rdf_type: URIRef) -> URIRef:
    ref = URIRef(iri)
    graph.add((ref, RDF.type, rdf_type))
    return ref


def _agent(graph: Graph, name: str, iri: str | None) -> URIRef | BNode:
    agent: URIRef | BNode = URIRef(iri) if iri else BNode()
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, Literal(name)))
    return agent


def _orcid(creator: Mapping[str, Any]) -> str | None:
    for ident in creator.get("nameIdentifiers", []):
        value = str(ident.get("nameIdentifier", ""))
        if value.startswith("https://"):
            return value
    return None


def _description(view: DatasetView, meta: Mapping[str, Any]) -> str:
    texts = [d["description"] for d in meta.get("descriptions", []) if d.get("description")]
    return texts[0] if texts else (view.description or meta["titles"][0]["title"])


def _subjects(graph: Graph, node: URIRef, subjects: Iterable[Mapping[str, Any]]) -> None:
    """Keywords always; coded subjects also as themes (`skos:Concept`s with their label)."""
    for subject in subjects:
        label = subject.get("subject")
        if not label:
            continue
        graph.add((node, DCAT.keyword, Literal(label)))
        if subject.get("valueUri"):
            concept = _typed(graph, subject["valueUri"], SKOS.Concept)
            graph.add((concept, SKOS.prefLabel, Literal(label)))
            graph.add((node, DCAT.theme, concept))


def _versions(graph: Graph, node: URIRef, view: DatasetView, title: str) -> None:
    """Version links; each linked dataset typed and named, as the range shapes ask."""
    if view.version:
        graph.add((node, DCAT.version, Literal(view.version)))
    linked: list[tuple[URIRef, str]] = []
    if view.concept_iri:
        linked.append((URIRef(view.concept_iri), title))
        graph.add((node, DCAT.isVersionOf, linked[-1][0]))
    if view.is_concept:
        for version in view.versions:
            linked.append((URIRef(version.iri), f"{title} (version {version.version})"))
            graph.add((node, DCAT.hasVersion, linked[-1][0]))
    for ref, name in linked:
        if (ref, RDF.type, DCAT.Dataset) not in graph:
            graph.add((ref, RDF.type, DCAT.Dataset))
            graph.add((ref, DCTERMS.title, Literal(name)))
            graph.add((ref, DCTERMS.description, Literal(view.description or name)))


def _related(graph: Graph, node: URIRef, related: Iterable[Mapping[str, Any]]) -> None:
    for item in related:
        if item.get("relationType") in {"HasVersion", "IsVersionOf"}:
            continue
        ident = str(item["relatedIdentifier"])
        if item.get("relatedIdentifierType") == "DOI" and not ident.startswith("http"):
            ident = f"https://doi.org/{ident}"
        if ident.startswith("http"):
            graph.add((node, DCTERMS.relation, URIRef(ident)))


def _licence(meta: Mapping[str, Any]) -> URIRef | None:
    uris = [r["rightsUri"] for r in meta.get("rightsList", []) if r.get("rightsUri")]
    return URIRef(uris[0]) if uris else None


def _access(graph: Graph, node: URIRef, view: DatasetView, licence: URIRef | None) -> None:
    """Restricted access; one distribution per site that says how to request its images."""
    rights = _typed(graph, str(ACCESS_RIGHT.RESTRICTED), DCTERMS.RightsStatement)
    graph.add((node, DCTERMS.accessRights, rights))
    if licence is not None:
        graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
    for condition in view.access_conditions:
        graph.add((node, DCAT.distribution, _distribution(graph, view, condition, licence)))


def _distribution(
    graph: Graph, view: DatasetView, condition: AccessCondition, licence: URIRef | None
) -> BNode:
    dist = BNode()
    graph.add((dist, RDF.type, DCAT.Distribution))
    graph.add((dist, DCTERMS.title, Literal(f"Images at {condition.site}")))
    terms = f"Who may request the images: {condition.who} How: {condition.how}"
    graph.add((dist, DCTERMS.description, Literal(terms)))
    access = condition.contact_url or view.iri
    graph.add((dist, DCAT.accessURL, _typed(graph, access, RDFS.Resource)))
    if licence is not None:
        graph.add((dist, DCTERMS.license, licence))
    statement = BNode()
    graph.add((statement, RDF.type, DCTERMS.RightsStatement))
    graph.add((statement, RDFS.label, Literal(terms)))
    graph.add((dist, DCTERMS.rights, statement))
    return dist
