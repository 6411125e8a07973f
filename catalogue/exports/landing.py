"""The landing page of a dataset or version: server-rendered HTML (no script needed) with its
schema.org JSON-LD, a citation box, versions, access conditions per site, and the Signposting
`Link` header that points machines to the same things. A withdrawn dataset gets a tombstone."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from catalogue.exports.citation import citation
from catalogue.exports.datacite import to_datacite_json
from catalogue.exports.negotiation import REPRESENTATIONS
from catalogue.exports.schemaorg import to_schemaorg
from catalogue.exports.view import DatasetView

_templates = Environment(
    loader=PackageLoader("catalogue.exports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_landing(view: DatasetView) -> str:
    """The page for `view` (the tombstone if the dataset was withdrawn)."""
    template = _templates.get_template("tombstone.html" if view.deleted else "landing.html")
    return template.render(**_context(view))


def _context(view: DatasetView) -> dict[str, Any]:
    meta = to_datacite_json(view)
    return {
        "view": view,
        "meta": meta,
        "title": meta["titles"][0]["title"],
        "descriptions": [d["description"] for d in meta.get("descriptions", [])],
        "creators": [_creator(c) for c in meta["creators"]],
        "licences": meta.get("rightsList", []),
        "citations": {style: citation(view, style) for style in ("text", "bibtex", "ris")},
        "formats": [(r, f"{view.iri}?format={r.name}") for r in REPRESENTATIONS[1:]],
        "jsonld": _script_safe(to_schemaorg(view)),
    }


def _creator(creator: dict[str, Any]) -> dict[str, Any]:
    ids = [
        n["nameIdentifier"]
        for n in creator.get("nameIdentifiers", [])
        if str(n.get("nameIdentifier", "")).startswith("https://")
    ]
    affiliations = [a["name"] for a in creator.get("affiliation", []) if a.get("name")]
    return {"name": creator["name"], "url": ids[0] if ids else None, "affiliations": affiliations}


def _script_safe(doc: dict[str, Any]) -> str:
    """JSON that cannot close its `<script>` element early."""
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def signposting(view: DatasetView) -> str:
    """The `Link` header (Signposting level 1) of a landing page."""
    links: list[tuple[str, str, str | None]] = [(view.cite_as, "cite-as", None)]
    links += [
        (f"{view.iri}?format={r.name}", "describedby", r.media_type) for r in REPRESENTATIONS[1:7]
    ]
    links += [
        ("https://schema.org/Dataset", "type", None),
        ("https://schema.org/AboutPage", "type", None),
    ]
    meta = to_datacite_json(view)
    links += [
        (r["rightsUri"], "license", None) for r in meta.get("rightsList", []) if r.get("rightsUri")
    ]
    for creator in meta["creators"]:
        url = _creator(creator)["url"]
        if url:
            links.append((url, "author", None))
    for condition in view.access_conditions:
        if condition.contact_url and condition.contact_url.startswith("http"):
            links.append((condition.contact_url, "item", "text/html"))
    return ", ".join(_link(url, rel, media) for url, rel, media in links)


def _link(url: str, rel: str, media: str | None) -> str:
    safe = url.replace(">", "%3E").replace("<", "%3C").replace("\r", "").replace("\n", "")
    return f'<{safe}>; rel="{rel}"' + (f'; type="{media}"' if media else "")
