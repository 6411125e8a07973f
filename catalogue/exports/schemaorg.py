"""schema.org `Dataset` JSON-LD, as Google Dataset Search reads it from a landing page.

The context is inline (`@vocab`), so a consumer never fetches one to read the graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catalogue.exports.datacite import to_datacite_json
from catalogue.exports.view import DatasetView

CONTEXT = {"@vocab": "http://schema.org/"}
_MIN_DESCRIPTION = 50  # Google ignores shorter descriptions


def to_schemaorg(view: DatasetView) -> dict[str, Any]:
    meta = to_datacite_json(view)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "@id": view.cite_as,
        "url": view.iri,
        "name": meta["titles"][0]["title"],
        "description": _description(view, meta),
        "identifier": _identifiers(view),
        "creator": [_agent(c) for c in meta["creators"]],
        "publisher": {"@type": "Organization", "name": meta["publisher"]["name"]},
        "datePublished": (
            view.published_at.date().isoformat()
            if view.published_at
            else str(meta["publicationYear"])
        ),
        "dateModified": view.modified.date().isoformat(),
        "isAccessibleForFree": True,
    }
    keywords = [s["subject"] for s in meta.get("subjects", []) if s.get("subject")]
    if keywords:
        doc["keywords"] = keywords
    licences = [r.get("rightsUri") for r in meta.get("rightsList", []) if r.get("rightsUri")]
    if licences:
        doc["license"] = licences[0] if len(licences) == 1 else licences
    if view.version:
        doc["version"] = view.version
    if view.concept_iri:
        concept = f"https://doi.org/{view.concept_doi}" if view.concept_doi else view.concept_iri
        doc["isPartOf"] = {"@id": concept}
    if view.is_concept and view.versions:
        doc["hasPart"] = [{"@id": v.iri, "version": v.version} for v in view.versions]
    funders = [_funding(f) for f in meta.get("fundingReferences", [])]
    if funders:
        doc["funding"] = funders
    if view.deleted:
        doc["description"] = f"This dataset was withdrawn. {doc['description']}"
    return doc


def _description(view: DatasetView, meta: Mapping[str, Any]) -> str:
    texts = [d["description"] for d in meta.get("descriptions", []) if d.get("description")]
    text = texts[0] if texts else view.description
    if len(text) < _MIN_DESCRIPTION:
        text = f"{text} Imaging metadata published by {view.node.name}.".strip()
    return text[:5000]


def _identifiers(view: DatasetView) -> list[Any]:
    ids: list[Any] = []
    if view.doi:
        ids.append(
            {
                "@type": "PropertyValue",
                "propertyID": "https://registry.identifiers.org/registry/doi",
                "value": f"doi:{view.doi}",
                "url": view.doi_url,
            }
        )
    ids.append(view.iri)
    return ids


def _agent(creator: Mapping[str, Any]) -> dict[str, Any]:
    personal = creator.get("nameType") != "Organizational"
    agent: dict[str, Any] = {"@type": "Person" if personal else "Organization"}
    agent["name"] = creator["name"]
    for key in ("givenName", "familyName"):
        if creator.get(key):
            agent[key] = creator[key]
    orcids = [
        n["nameIdentifier"]
        for n in creator.get("nameIdentifiers", [])
        if str(n.get("nameIdentifierScheme", "")).upper() in {"ORCID", "ROR"}
    ]
    if orcids:
        agent["@id"] = _as_url(orcids[0], creator)
        agent["identifier"] = agent["@id"]
    affiliations = [a for a in creator.get("affiliation", []) if a.get("name")]
    if affiliations and personal:
        agent["affiliation"] = [_organisation(a) for a in affiliations]
    return agent


def _as_url(identifier: str, creator: Mapping[str, Any]) -> str:
    if identifier.startswith("http"):
        return identifier
    schemes = {str(n.get("nameIdentifierScheme", "")).upper() for n in creator["nameIdentifiers"]}
    return (
        f"https://orcid.org/{identifier}" if "ORCID" in schemes else f"https://ror.org/{identifier}"
    )


def _organisation(affiliation: Mapping[str, Any]) -> dict[str, Any]:
    org: dict[str, Any] = {"@type": "Organization", "name": affiliation["name"]}
    if str(affiliation.get("affiliationIdentifier", "")).startswith("http"):
        org["@id"] = affiliation["affiliationIdentifier"]
    return org


def _funding(reference: Mapping[str, Any]) -> dict[str, Any]:
    grant: dict[str, Any] = {"@type": "Grant", "funder": {"@type": "Organization"}}
    grant["funder"]["name"] = reference["funderName"]
    if reference.get("awardNumber"):
        grant["identifier"] = reference["awardNumber"]
    if reference.get("awardTitle"):
        grant["name"] = reference["awardTitle"]
    return grant
