"""Parsing XML from partners without trusting it.

lxml parses with entities left unresolved, no DTD loaded, no network and no huge-tree mode; a
document that declares a DTD at all is refused, since neither OAI-PMH nor RDF/XML needs one: a
DOCTYPE can only be an entity trick (billion laughs, an external entity naming a local file).
"""

from __future__ import annotations

from typing import Any, TypeAlias

from lxml import etree  # type: ignore[import-untyped]  # (no stubs installed)

_PARSER = etree.XMLParser(
    resolve_entities=False,
    load_dtd=False,
    no_network=True,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)
Element: TypeAlias = Any  # an lxml element (lxml ships no type stubs)


class UnsafeXmlError(ValueError):
    """The document is not well-formed, or declares a DTD; the message says which."""


def parse(document: bytes) -> Element:
    """The root element of a well-formed document without a DTD."""
    if b"<!DOCTYPE" in document[:4096].upper():  # the common case, refused before parsing
        raise UnsafeXmlError("it declares a DTD or entities (refused)")
    try:
        root = etree.fromstring(document, _PARSER)
    except etree.XMLSyntaxError:
        raise UnsafeXmlError("it is not well-formed XML") from None
    if root is None:
        raise UnsafeXmlError("it is empty")
    if root.getroottree().docinfo.doctype or any(
        isinstance(node, etree._Entity) for node in root.iter()
    ):
        raise UnsafeXmlError("it declares a DTD or entities (refused)")
    return root


def local_name(element: Element) -> str:
    """The tag without its namespace ("" for comments and the like)."""
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def text_of(element: Element | None) -> str:
    """The element's whole text, whitespace collapsed ("" for None)."""
    if element is None:
        return ""
    text = element.text or "" if len(element) == 0 else "".join(element.itertext())
    return " ".join(text.split())
