"""The scans of an experiment document (`xnat:MRSession`, `xnat:CTSession`, `xnat:PETSession`,
... from `GET /data/experiments/{id}?format=xml`), read safely.

Parsed by `harvesters.safexml` (entities unresolved, no DTD, no network; a DOCTYPE is refused:
XNAT never sends one, so it can only be an entity trick). Only the fields a series record
carries are read; the session's `dcmPatient*` elements, labels, paths and UIDs are never looked
at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalogue.errors import SkippableHarvestError
from harvesters.safexml import Element, UnsafeXmlError, local_name, parse

XNAT = "{http://nrg.wustl.edu/xnat}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
MAX_BYTES = 16 * 1024 * 1024
# Scan fields kept, by their XNAT path (as in XNAT's DICOM extraction and search columns).
_SCAN_TEXT = (
    "quality",
    "series_description",
    "frames",
    "fieldStrength",
    "modality",
    "bodyPartExamined",
)
_PARAMETERS = ("tr", "te", "ti", "flip", "imageType", "sequence", "scanSequence", "orientation")
_PAIRS = ("voxelRes", "fov")


class BadDocument(SkippableHarvestError):
    """The experiment document cannot be used; the message says why, never what it holds."""


@dataclass
class SessionDetail:
    """What the document says about the session and, per scan ID, its scan fields (XNAT paths:
    `parameters/tr`, `scanner/manufacturer`, ...; values as text)."""

    session: dict[str, str] = field(default_factory=dict)
    scans: dict[str, dict[str, str]] = field(default_factory=dict)


def parse_session(document: bytes) -> SessionDetail:
    if len(document) > MAX_BYTES:
        raise BadDocument("the experiment document is larger than 16 MiB")
    try:
        root = parse(document)
    except UnsafeXmlError as exc:
        raise BadDocument(f"the experiment document cannot be read: {exc}") from None
    if not isinstance(root.tag, str) or not root.tag.startswith(XNAT):
        raise BadDocument("the experiment document is not an XNAT experiment")
    detail = SessionDetail(session=_session_fields(root))
    for scan in root.iterfind(f"{XNAT}scans/{XNAT}scan"):
        scan_id = (scan.get("ID") or "").strip()
        if scan_id:
            detail.scans[scan_id] = _scan_fields(scan)
    return detail


def _session_fields(root: Element) -> dict[str, str]:
    found = {"xsiType": _local_type(root)}
    for name in ("date", "fieldStrength"):
        _put(found, name, root.findtext(f"{XNAT}{name}"))
    _put(found, "modality", root.get("modality"))
    _scanner(root, found)
    return found


def _scan_fields(scan: Element) -> dict[str, str]:
    found: dict[str, str] = {}
    _put(found, "type", scan.get("type"))
    _put(found, "xsiType", scan.get(XSI_TYPE))
    for name in _SCAN_TEXT:
        _put(found, name, scan.findtext(f"{XNAT}{name}"))
    _scanner(scan, found)
    parameters = scan.find(f"{XNAT}parameters")
    if parameters is not None:
        for name in _PARAMETERS:
            _put(found, f"parameters/{name}", parameters.findtext(f"{XNAT}{name}"))
        for name in _PAIRS:
            pair = parameters.find(f"{XNAT}{name}")
            for axis in ("x", "y", "z"):
                _put(found, f"parameters/{name}/{axis}", None if pair is None else pair.get(axis))
    return found


def _scanner(element: Element, found: dict[str, str]) -> None:
    scanner = element.find(f"{XNAT}scanner")
    if scanner is not None:  # the text is the station name: not kept
        _put(found, "scanner/manufacturer", scanner.get("manufacturer"))
        _put(found, "scanner/model", scanner.get("model"))


def _put(found: dict[str, str], name: str, value: str | None) -> None:
    if value is not None and value.strip():
        found[name] = value.strip()


def _local_type(root: Element) -> str:
    """`xnat:MRSession` -> `xnat:mrSessionData`, the xsiType the listings use."""
    name = local_name(root)
    if name.endswith("Session"):
        prefix = name[: -len("Session")]
        return f"xnat:{prefix.lower()}SessionData"
    return f"xnat:{name}"
