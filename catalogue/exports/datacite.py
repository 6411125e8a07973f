"""DataCite metadata kernel 4.5: the JSON `attributes` form and its XML.

The stored `meta` is already DataCite-shaped; this fills what the node knows (DOI, URL, version,
publisher, year, resource type), links versions to their concept, and keeps only the kernel's
properties so a curator's extra fields never leak into a registration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from datacite import schema45  # type: ignore[import-untyped]

from catalogue.exports.view import DatasetView

SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"
KERNEL_PROPERTIES = frozenset(
    {
        "doi", "url", "types", "creators", "titles", "publisher", "publicationYear", "subjects",
        "contributors", "dates", "language", "alternateIdentifiers", "relatedIdentifiers",
        "relatedItems", "sizes", "formats", "version", "rightsList", "descriptions",
        "geoLocations", "fundingReferences", "schemaVersion", "container",
    }
)  # fmt: skip


def to_datacite_json(view: DatasetView) -> dict[str, Any]:
    """The DataCite JSON attributes of a dataset or version (validates against kernel 4.5)."""
    meta = view.attributes
    out: dict[str, Any] = {k: v for k, v in meta.items() if k in KERNEL_PROPERTIES}
    if view.doi:
        out["doi"] = view.doi
    else:
        out.pop("doi", None)
    out["url"] = view.iri
    out["titles"] = meta.get("titles") or [{"title": view.title}]
    out["creators"] = meta.get("creators") or [
        {"name": view.node.name, "nameType": "Organizational"}
    ]
    out["publisher"] = _publisher(meta.get("publisher"), view.node.name)
    out["publicationYear"] = str(meta.get("publicationYear") or _year(view))
    out["types"] = {"resourceTypeGeneral": "Dataset", **(meta.get("types") or {})}
    if view.description and not meta.get("descriptions"):
        out["descriptions"] = [{"description": view.description, "descriptionType": "Abstract"}]
    if view.version:
        out["version"] = view.version
    if view.published_at and not out.get("dates"):
        out["dates"] = [{"date": view.published_at.date().isoformat(), "dateType": "Issued"}]
    related = [r for r in meta.get("relatedIdentifiers") or [] if not _is_version_link(r)]
    out["relatedIdentifiers"] = related + _version_links(view)
    if not out["relatedIdentifiers"]:
        del out["relatedIdentifiers"]
    out["schemaVersion"] = SCHEMA_VERSION
    return out


def to_datacite_xml(view: DatasetView) -> bytes:
    """The same metadata as kernel-4.5 XML."""
    text: str = schema45.tostring(to_datacite_json(view))
    return text.encode("utf-8")


def datacite_etree(view: DatasetView) -> Any:
    """The kernel-4.5 `<resource>` element (for embedding in OAI-PMH `oai_datacite`)."""
    return schema45.dump_etree(to_datacite_json(view))


def _publisher(value: Any, default: str) -> dict[str, Any]:
    if isinstance(value, Mapping) and value.get("name"):
        return dict(value)
    if isinstance(value, str) and value:
        return {"name": value}
    return {"name": default}


def _year(view: DatasetView) -> int:
    return (view.published_at or view.modified).year


_VERSION_RELATIONS = {"IsVersionOf", "HasVersion", "IsNewVersionOf", "IsPreviousVersionOf"}


def _is_version_link(item: Mapping[str, Any]) -> bool:
    return item.get("relationType") in _VERSION_RELATIONS


def _doi_link(doi: str, relation: str) -> dict[str, str]:
    return {"relatedIdentifier": doi, "relatedIdentifierType": "DOI", "relationType": relation}


def _version_links(view: DatasetView) -> list[dict[str, str]]:
    """Concept ↔ version (`HasVersion`/`IsVersionOf`), and version ↔ its neighbours."""
    if view.is_concept:
        return [_doi_link(v.doi, "HasVersion") for v in view.versions if v.doi]
    links = [_doi_link(view.concept_doi, "IsVersionOf")] if view.concept_doi else []
    order = [v for v in view.versions if v.doi]  # newest first
    index = next((i for i, v in enumerate(order) if v.version == view.version), None)
    if index is not None and index + 1 < len(order):
        links.append(_doi_link(order[index + 1].doi or "", "IsNewVersionOf"))
    if index is not None and index > 0:
        links.append(_doi_link(order[index - 1].doi or "", "IsPreviousVersionOf"))
    return links
