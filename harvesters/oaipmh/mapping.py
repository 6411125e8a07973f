"""Metadata of an OAI-PMH record → DataCite-shaped attributes (the `attributes` of DataCite
JSON), and the record's identifier and landing page as the partner gave them.

`oai_dc` (Dublin Core) says little: titles, creators as plain names, dates as free text.
`oai_datacite` and `datacite` carry a DataCite kernel resource (kernel-3 or 4), read here
element by element whatever its namespace version.
"""

from __future__ import annotations

import re
from typing import Any

from harvesters.datacite_shape import compact, doi_of
from harvesters.safexml import Element, local_name, text_of

YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
DATE_TYPES = {
    "Accepted",
    "Available",
    "Copyrighted",
    "Collected",
    "Coverage",
    "Created",
    "Issued",
    "Submitted",
    "Updated",
    "Valid",
    "Withdrawn",
    "Other",
}
RESOURCE_TYPES = {
    t.lower(): t
    for t in (
        "Audiovisual",
        "Book",
        "BookChapter",
        "Collection",
        "ComputationalNotebook",
        "ConferencePaper",
        "ConferenceProceeding",
        "DataPaper",
        "Dataset",
        "Dissertation",
        "Event",
        "Image",
        "Instrument",
        "InteractiveResource",
        "Journal",
        "JournalArticle",
        "Model",
        "OutputManagementPlan",
        "PeerReview",
        "PhysicalObject",
        "Preprint",
        "Report",
        "Service",
        "Software",
        "Sound",
        "Standard",
        "StudyRegistration",
        "Text",
        "Workflow",
        "Other",
    )
}


class MappingError(ValueError):
    """The metadata cannot make a dataset record; the message says what is missing."""


def children(parent: Element | None, name: str) -> list[Element]:
    """Direct children named `name`, whatever their namespace (lxml's `{*}` matches any)."""
    return [] if parent is None else list(parent.iterfind(f"{{*}}{name}"))


def child(parent: Element | None, name: str) -> Element | None:
    return None if parent is None else parent.find(f"{{*}}{name}")


def _texts(parent: Element, name: str) -> list[str]:
    return [t for t in (text_of(e) for e in children(parent, name)) if t]


# -- Dublin Core --------------------------------------------------------------------------------
def from_dublin_core(dc: Element) -> dict[str, Any]:
    identifiers = _texts(dc, "identifier")
    dois = [d for d in map(doi_of, identifiers) if d]
    urls = [i for i in identifiers if i.startswith(("http://", "https://")) and not doi_of(i)]
    meta: dict[str, Any] = {
        "titles": [{"title": t} for t in _texts(dc, "title")],
        "creators": [{"name": n} for n in _texts(dc, "creator")],
        "contributors": [
            {"name": n, "contributorType": "Other"} for n in _texts(dc, "contributor")
        ],
        "subjects": [{"subject": s} for s in _texts(dc, "subject")],
        "descriptions": [
            {"description": d, "descriptionType": "Abstract"} for d in _texts(dc, "description")
        ],
        "dates": [_dc_date(d) for d in _texts(dc, "date")],
        "formats": _texts(dc, "format"),
        "rightsList": [{"rights": r} for r in _texts(dc, "rights")],
        "alternateIdentifiers": [
            {"alternateIdentifier": i, "alternateIdentifierType": _id_type(i)} for i in identifiers
        ],
    }
    publishers, languages, types = _texts(dc, "publisher"), _texts(dc, "language"), _dc_types(dc)
    if publishers:
        meta["publisher"] = {"name": publishers[0]}
    if languages:
        meta["language"] = languages[0]
    if types:
        meta["types"] = types
    years = [int(m.group(1)) for d in _texts(dc, "date") if (m := YEAR.search(d))]
    if years:
        meta["publicationYear"] = str(min(years))
    if dois:
        meta["doi"] = dois[0]
    if urls:
        meta["url"] = urls[0]
    return compact(meta)


def dc_identifier(dc: Element) -> str | None:
    """The partner's persistent identifier as written: its DOI if it gives one."""
    identifiers = _texts(dc, "identifier")
    return next((i for i in identifiers if doi_of(i)), identifiers[0] if identifiers else None)


def _dc_date(value: str) -> dict[str, str]:
    kind, _, rest = value.partition(":")  # DataCite's own provider writes "Issued: 2018-01-18"
    if rest and kind.strip() in DATE_TYPES:
        return {"date": rest.strip(), "dateType": kind.strip()}
    return {"date": value, "dateType": "Issued"}


def _dc_types(dc: Element) -> dict[str, str]:
    values = _texts(dc, "type")
    general = next((RESOURCE_TYPES[v.lower()] for v in values if v.lower() in RESOURCE_TYPES), None)
    found: dict[str, str] = {}
    if general:
        found["resourceTypeGeneral"] = general
    rest = [v for v in values if v.lower() not in RESOURCE_TYPES]
    if rest:
        found["resourceType"] = rest[0]
    return found


def _id_type(value: str) -> str:
    if doi_of(value):
        return "DOI"
    if value.startswith(("http://", "https://")):
        return "URL"
    return "Other"


# -- DataCite kernel ----------------------------------------------------------------------------
def datacite_resource(payload: Element) -> Element | None:
    """The kernel `<resource>`: the payload itself (`datacite`) or inside `<payload>`."""
    if local_name(payload) == "resource":
        return payload
    return next((e for e in payload.iter() if local_name(e) == "resource"), None)


def from_datacite(resource: Element) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "titles": [
            _with(e, "title", titleType="titleType", lang=_LANG)
            for e in _list(resource, "titles", "title")
        ],
        "creators": [_person(e, "creator") for e in _list(resource, "creators", "creator")],
        "contributors": [
            {**_person(e, "contributor"), **_attrs(e, contributorType="contributorType")}
            for e in _list(resource, "contributors", "contributor")
        ],
        "subjects": [
            _with(
                e,
                "subject",
                subjectScheme="subjectScheme",
                schemeUri="schemeURI",
                valueUri="valueURI",
            )
            for e in _list(resource, "subjects", "subject")
        ],
        "dates": [
            _with(e, "date", dateType="dateType", dateInformation="dateInformation")
            for e in _list(resource, "dates", "date")
        ],
        "relatedIdentifiers": [
            _with(
                e,
                "relatedIdentifier",
                relatedIdentifierType="relatedIdentifierType",
                relationType="relationType",
                resourceTypeGeneral="resourceTypeGeneral",
            )
            for e in _list(resource, "relatedIdentifiers", "relatedIdentifier")
        ],
        "alternateIdentifiers": [
            _with(e, "alternateIdentifier", alternateIdentifierType="alternateIdentifierType")
            for e in _list(resource, "alternateIdentifiers", "alternateIdentifier")
        ],
        "sizes": [text_of(e) for e in _list(resource, "sizes", "size") if text_of(e)],
        "formats": [text_of(e) for e in _list(resource, "formats", "format") if text_of(e)],
        "rightsList": [
            _with(e, "rights", rightsUri="rightsURI", rightsIdentifier="rightsIdentifier")
            for e in _list(resource, "rightsList", "rights")
            if text_of(e) or e.get("rightsURI")
        ],
        "descriptions": [
            _with(e, "description", descriptionType="descriptionType", lang=_LANG)
            for e in _list(resource, "descriptions", "description")
            if text_of(e)
        ],
        "geoLocations": [
            {"geoLocationPlace": place}
            for e in _list(resource, "geoLocations", "geoLocation")
            if (place := text_of(child(e, "geoLocationPlace")))
        ],
        "fundingReferences": [
            _funding(e) for e in _list(resource, "fundingReferences", "fundingReference")
        ],
    }
    _scalars(resource, meta)
    return compact(meta)


def datacite_identifier(resource: Element) -> str | None:
    found = child(resource, "identifier")
    return text_of(found) or None


def datacite_landing_page(resource: Element) -> str | None:
    """An alternate identifier of type URL, the partner's own page for the dataset."""
    for e in _list(resource, "alternateIdentifiers", "alternateIdentifier"):
        if (e.get("alternateIdentifierType") or "").upper() == "URL" and text_of(e):
            return text_of(e)
    return None


_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _scalars(resource: Element, meta: dict[str, Any]) -> None:
    identifier = child(resource, "identifier")
    if identifier is not None and (identifier.get("identifierType") or "").upper() == "DOI":
        meta["doi"] = doi_of(text_of(identifier)) or text_of(identifier)
    publisher = text_of(child(resource, "publisher"))
    year = text_of(child(resource, "publicationYear"))
    kind = child(resource, "resourceType")
    meta["publisher"] = {"name": publisher} if publisher else None
    meta["publicationYear"] = year if len(year) == 4 and year.isdigit() else None
    meta["language"] = text_of(child(resource, "language")) or None
    meta["version"] = text_of(child(resource, "version")) or None
    if kind is not None:
        types = {
            "resourceTypeGeneral": kind.get("resourceTypeGeneral"),
            "resourceType": text_of(kind),
        }
        meta["types"] = {k: v for k, v in types.items() if v} or None
    meta["url"] = datacite_landing_page(resource)


def _list(resource: Element, wrapper: str, name: str) -> list[Element]:
    return list(resource.iterfind(f"{{*}}{wrapper}/{{*}}{name}"))


def _attrs(element: Element, **names: str) -> dict[str, str]:
    """JSON keys from XML attributes (`key=attribute`), present ones only."""
    return {key: value for key, attr in names.items() if (value := element.get(attr))}


def _with(element: Element, key: str, **names: str) -> dict[str, str]:
    return {key: text_of(element), **_attrs(element, **names)}


def _person(element: Element, role: str) -> dict[str, Any]:
    name = child(element, f"{role}Name")
    person: dict[str, Any] = {"name": text_of(name)}
    if name is not None and name.get("nameType"):
        person["nameType"] = name.get("nameType")
    for part in ("givenName", "familyName"):
        if value := text_of(child(element, part)):
            person[part] = value
    identifiers = [
        _with(
            e, "nameIdentifier", nameIdentifierScheme="nameIdentifierScheme", schemeUri="schemeURI"
        )
        for e in children(element, "nameIdentifier")
        if text_of(e)
    ]
    affiliations = [
        {
            "name": text_of(e),
            **_attrs(
                e,
                affiliationIdentifier="affiliationIdentifier",
                affiliationIdentifierScheme="affiliationIdentifierScheme",
            ),
        }
        for e in children(element, "affiliation")
        if text_of(e)
    ]
    if identifiers:
        person["nameIdentifiers"] = identifiers
    if affiliations:
        person["affiliation"] = affiliations
    return person


def _funding(element: Element) -> dict[str, str]:
    found = {
        "funderName": text_of(child(element, "funderName")),
        "funderIdentifier": text_of(child(element, "funderIdentifier")),
        "awardNumber": text_of(child(element, "awardNumber")),
        "awardTitle": text_of(child(element, "awardTitle")),
    }
    return {key: value for key, value in found.items() if value}
