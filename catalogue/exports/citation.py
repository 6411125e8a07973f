"""How to cite a dataset: DataCite's recommended text, BibTeX and RIS."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from catalogue.exports.datacite import to_datacite_json
from catalogue.exports.view import DatasetView

FORMATS = {
    "text": "text/plain",
    "bibtex": "application/x-bibtex",
    "ris": "application/x-research-info-systems",
}


def citation(view: DatasetView, style: str) -> str:
    """The citation in one of `FORMATS`."""
    meta = to_datacite_json(view)
    if style == "bibtex":
        return _bibtex(view, meta)
    if style == "ris":
        return _ris(view, meta)
    return _text(view, meta)


def _authors(meta: Mapping[str, Any]) -> list[str]:
    return [_author(c) for c in meta["creators"]]


def _author(creator: Mapping[str, Any]) -> str:
    if creator.get("familyName"):
        given = creator.get("givenName", "")
        return f"{creator['familyName']}, {given}".rstrip(", ")
    return str(creator["name"])


def _text(view: DatasetView, meta: Mapping[str, Any]) -> str:
    """Creator (PublicationYear). Title. Version. Publisher. Identifier"""
    parts = [f"{'; '.join(_authors(meta))} ({meta['publicationYear']}).", _title(meta) + "."]
    if view.version:
        parts.append(f"Version {view.version}.")
    parts += [f"{meta['publisher']['name']}.", view.cite_as]
    return " ".join(parts)


def _title(meta: Mapping[str, Any]) -> str:
    return str(meta["titles"][0]["title"])


def _bibtex(view: DatasetView, meta: Mapping[str, Any]) -> str:
    fields = {
        "author": " and ".join(_bibtex_escape(a) for a in _authors(meta)),
        "title": "{" + _bibtex_escape(_title(meta)) + "}",
        "publisher": _bibtex_escape(meta["publisher"]["name"]),
        "year": str(meta["publicationYear"]),
        "version": view.version or "",
        "doi": view.doi or "",
        "url": view.cite_as,
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
    return f"@misc{{{_bibtex_key(view, meta)},\n{body}\n}}\n"


def _bibtex_key(view: DatasetView, meta: Mapping[str, Any]) -> str:
    if view.doi:
        return re.sub(r"[^A-Za-z0-9]+", "_", view.doi)
    return f"dataset_{view.dataset_id.hex[:12]}"


def _bibtex_escape(value: str) -> str:
    return re.sub(r"([{}\\%&$#_])", r"\\\1", value)


def _ris(view: DatasetView, meta: Mapping[str, Any]) -> str:
    lines = [("TY", "DATA")]
    lines += [("AU", a) for a in _authors(meta)]
    lines += [("TI", _title(meta)), ("PY", str(meta["publicationYear"]))]
    lines.append(("PB", meta["publisher"]["name"]))
    if view.version:
        lines.append(("ET", view.version))
    if view.doi:
        lines.append(("DO", view.doi))
    lines += [("UR", view.cite_as)]
    lines += [("KW", s["subject"]) for s in meta.get("subjects", []) if s.get("subject")]
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {value.replace(chr(10), ' ')}\r\n" for tag, value in lines)
