"""Which representation of a dataset a request asks for: `?format=` wins, then `Accept`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Representation:
    name: str  # the `?format=` value
    media_type: str
    title: str


REPRESENTATIONS = (
    Representation("html", "text/html", "Landing page"),
    Representation("datacite-json", "application/vnd.datacite.datacite+json", "DataCite JSON"),
    Representation("datacite-xml", "application/vnd.datacite.datacite+xml", "DataCite XML"),
    Representation("turtle", "text/turtle", "DCAT-AP Turtle"),
    Representation("jsonld", "application/ld+json", "DCAT-AP JSON-LD"),
    Representation("rdfxml", "application/rdf+xml", "DCAT-AP RDF/XML"),
    Representation("schemaorg", "application/vnd.schemaorg.ld+json", "schema.org JSON-LD"),
    Representation("citation", "text/x-bibliography", "Citation (DataCite style)"),
    Representation("bibtex", "application/x-bibtex", "BibTeX"),
    Representation("ris", "application/x-research-info-systems", "RIS"),
)
BY_NAME = {r.name: r for r in REPRESENTATIONS}
#: media types also accepted for a representation
ALIASES = {
    "application/json": "datacite-json",
    "application/xml": "datacite-xml",
    "text/xml": "datacite-xml",
    "application/xhtml+xml": "html",
    "text/plain": "citation",
    "text/n3": "turtle",
}
BY_MEDIA_TYPE = {r.media_type: r for r in REPRESENTATIONS} | {
    media: BY_NAME[name] for media, name in ALIASES.items()
}


class NotAcceptableError(Exception):
    """Nothing offered matches the request; the message lists what is."""


def choose(accept: str | None, format_: str | None) -> Representation:
    if format_:
        if format_ not in BY_NAME:
            raise NotAcceptableError(f"unknown format {format_!r}; offered: {', '.join(BY_NAME)}")
        return BY_NAME[format_]
    best: tuple[float, int, Representation] | None = None
    for order, (media, quality) in enumerate(_parse_accept(accept or "*/*")):
        found = _match(media)
        if found is not None and quality > 0 and (best is None or quality > best[0]):
            best = (quality, -order, found)
    if best is None:
        offered = ", ".join(r.media_type for r in REPRESENTATIONS)
        raise NotAcceptableError(f"no acceptable representation; offered: {offered}")
    return best[2]


def _match(media: str) -> Representation | None:
    if media in {"*/*", "text/*"}:
        return BY_NAME["html"]
    if media.endswith("/*"):
        major = media[:-1]
        return next((r for r in REPRESENTATIONS if r.media_type.startswith(major)), None)
    return BY_MEDIA_TYPE.get(media)


def _parse_accept(header: str) -> list[tuple[str, float]]:
    items = []
    for part in header.split(",")[:32]:  # a bounded header: no pathological inputs
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        if media:
            items.append((media.strip().lower(), quality))
    return items
