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
# Scan fields kept: element tag -> XNAT path (as in XNAT's DICOM extraction and search columns).
_SCAN_TEXT = {
    f"{XNAT}{name}": name
    for name in ("quality", "series_description", "frames", "fieldStrength", "modality")
} | {f"{XNAT}bodyPartExamined": "bodyPartExamined"}
_PARAMETERS = {
    f"{XNAT}{name}": f"parameters/{name}"
    for name in ("tr", "te", "ti", "flip", "imageType", "sequence", "scanSequence", "orientation")
}
_PAIRS = {f"{XNAT}{name}": f"parameters/{name}/" for name in ("voxelRes", "fov")}
_SCANNER, _PARAMETERS_TAG = f"{XNAT}scanner", f"{XNAT}parameters"


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
    scanner = root.find(_SCANNER)
    if scanner is not None:
        _scanner_of(scanner, found)
    return found


def _scan_fields(scan: Element) -> dict[str, str]:
    """One pass over the scan's children (a document has hundreds of scans' worth of them)."""
    found: dict[str, str] = {}
    _put(found, "type", scan.get("type"))
    _put(found, "xsiType", scan.get(XSI_TYPE))
    for child in scan:
        tag = child.tag
        if tag in _SCAN_TEXT:
            _put(found, _SCAN_TEXT[tag], child.text)
        elif tag == _SCANNER:
            _scanner_of(child, found)
        elif tag == _PARAMETERS_TAG:
            _parameters(child, found)
    return found


def _parameters(parameters: Element, found: dict[str, str]) -> None:
    for child in parameters:
        tag = child.tag
        if tag in _PARAMETERS:
            _put(found, _PARAMETERS[tag], child.text)
        elif tag in _PAIRS:
            for axis in ("x", "y", "z"):
                _put(found, _PAIRS[tag] + axis, child.get(axis))


def _scanner_of(scanner: Element, found: dict[str, str]) -> None:
    # the text is the station name: not kept
    _put(found, "scanner/manufacturer", scanner.get("manufacturer"))
    _put(found, "scanner/model", scanner.get("model"))


def _put(found: dict[str, str], name: str, value: str | None) -> None:
    if value is not None and (value := value.strip()):
        found[name] = value


def _local_type(root: Element) -> str:
    """`xnat:MRSession` -> `xnat:mrSessionData`, the xsiType the listings use."""
    name = local_name(root)
    if name.endswith("Session"):
        prefix = name[: -len("Session")]
        return f"xnat:{prefix.lower()}SessionData"
    return f"xnat:{name}"
