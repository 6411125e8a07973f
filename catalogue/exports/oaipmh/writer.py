"""OAI-PMH XML, written incrementally: each record is built, written and dropped.

`record_element` is the one element builder; the provider and the benchmark's bare loop share it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from catalogue.exports.datacite import datacite_etree, to_datacite_json
from catalogue.exports.oaipmh.protocol import datestamp
from catalogue.exports.oaipmh.repository import OaiRecord

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
OAI_DATACITE = "http://schema.datacite.org/oai/oai-1.1/"
_DEFAULT = {None: OAI}  # written one by one, each element keeps the default namespace
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "oai_datacite": ("http://schema.datacite.org/oai/oai-1.1/oai.xsd", OAI_DATACITE),
}


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _sub(parent: Any, name: str, text: str | None = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, _q(OAI, name), attrs)
    if text is not None:
        element.text = text
    return element


class Envelope:
    """One response: the `OAI-PMH` root, `responseDate` and `request`, then the body parts."""

    def __init__(self, base_url: str, request_args: dict[str, str]) -> None:
        self.base_url = base_url
        self.request_args = request_args
        self._buffer = io.BytesIO()

    def drain(self) -> bytes:
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data

    @contextmanager
    def open(self, verb: str | None) -> Iterator[Any]:
        """Yields the verb's element writer (`None` verb: an error response)."""
        with etree.xmlfile(self._buffer, encoding="utf-8") as xf:
            xf.write_declaration()
            root = {"nsmap": {None: OAI, "xsi": XSI}}
            location = {_q(XSI, "schemaLocation"): f"{OAI} {OAI}OAI-PMH.xsd"}
            with xf.element(_q(OAI, "OAI-PMH"), location, **root):
                now = datetime.now(UTC)
                xf.write(_element("responseDate", datestamp(now)))
                xf.write(_element("request", self.base_url, **self.request_args))
                if verb is None:
                    yield xf
                else:
                    with xf.element(_q(OAI, verb)):
                        yield xf


def _element(name: str, text: str, **attrs: str) -> Any:
    element = etree.Element(_q(OAI, name), attrs, nsmap=_DEFAULT)
    element.text = text
    return element


def error_element(code: str, message: str) -> Any:
    return _element("error", message, code=code)


def header_element(record: OaiRecord, identifier: str) -> Any:
    header = etree.Element(_q(OAI, "header"), nsmap=_DEFAULT)
    if record.deleted:
        header.set("status", "deleted")
    _sub(header, "identifier", identifier)
    _sub(header, "datestamp", datestamp(record.view.modified))
    for spec in record.sets:
        _sub(header, "setSpec", spec)
    return header


def record_element(record: OaiRecord, identifier: str, prefix: str) -> Any:
    """`<record>`: the header and, unless deleted, the metadata in `prefix`."""
    element = etree.Element(_q(OAI, "record"), nsmap=_DEFAULT)
    element.append(header_element(record, identifier))
    if not record.deleted:
        metadata = _sub(element, "metadata")
        metadata.append(metadata_element(record, prefix))
    return element


def metadata_element(record: OaiRecord, prefix: str) -> Any:
    if prefix == "oai_datacite":
        return _oai_datacite(record)
    return _oai_dc(record)


def _oai_datacite(record: OaiRecord) -> Any:
    root = etree.Element(_q(OAI_DATACITE, "oai_datacite"), nsmap={None: OAI_DATACITE})
    root.set(_q(XSI, "schemaLocation"), f"{OAI_DATACITE} {FORMATS['oai_datacite'][0]}")
    etree.SubElement(root, _q(OAI_DATACITE, "schemaVersion")).text = "4.5"
    etree.SubElement(root, _q(OAI_DATACITE, "datacentreSymbol")).text = record.view.node.name
    payload = etree.SubElement(root, _q(OAI_DATACITE, "payload"))
    payload.append(datacite_etree(record.view))
    return root


def _oai_dc(record: OaiRecord) -> Any:
    """Dublin Core, as DataCite maps its kernel onto it."""
    meta = to_datacite_json(record.view)
    root = etree.Element(_q(OAI_DC, "dc"), nsmap={"oai_dc": OAI_DC, "dc": DC})
    root.set(_q(XSI, "schemaLocation"), f"{OAI_DC} {FORMATS['oai_dc'][0]}")

    def dc(name: str, value: Any) -> None:
        if value:
            etree.SubElement(root, _q(DC, name)).text = str(value)

    for title in meta["titles"]:
        dc("title", title.get("title"))
    for creator in meta["creators"]:
        dc("creator", creator.get("name"))
    for subject in meta.get("subjects", []):
        dc("subject", subject.get("subject"))
    for description in meta.get("descriptions", []):
        dc("description", description.get("description"))
    dc("publisher", meta["publisher"]["name"])
    dc("date", meta["publicationYear"])
    dc("type", meta["types"].get("resourceTypeGeneral"))
    dc("identifier", f"doi:{record.view.doi}" if record.view.doi else record.view.iri)
    dc("identifier", record.view.iri)
    for rights in meta.get("rightsList", []):
        dc("rights", rights.get("rightsUri") or rights.get("rights"))
    for related in meta.get("relatedIdentifiers", []):
        dc("relation", f"{related['relatedIdentifierType'].lower()}:{related['relatedIdentifier']}")
    return root
