"""DICOM modalities (CID 29/33) and anatomy (PS3.16 Annex L BodyPartExamined, CID 4031)."""

from __future__ import annotations

import json
from importlib import resources
from typing import cast

import pydicom
from pydicom.sr import _cid_dict, _concepts_dict

from ontology import vocab
from ontology._generate.anatomy_tables import PARENTS, SYNONYMS
from ontology._generate.model import Vocabulary

# Names sites use for modalities besides DICOM's code meaning (ours).
_MODALITY_SYNONYMS: dict[str, tuple[tuple[str, str], ...]] = {
    "MR": (
        ("MRI", "en"),
        ("magnetic resonance imaging", "en"),
        ("NMR", "en"),
        ("MRT", "de"),
        ("Magnetresonanztomographie", "de"),
        ("Kernspintomographie", "de"),
        ("IRM", "fr"),
        ("RM", "es"),
    ),
    "CT": (
        ("CT scan", "en"),
        ("CAT scan", "en"),
        ("computerized tomography", "en"),
        ("Computertomographie", "de"),
        ("TDM", "fr"),
        ("tomodensitométrie", "fr"),
        ("TC", "es"),
    ),
    "PT": (("PET", "en"), ("TEP", "fr")),
    "NM": (("scintigraphy", "en"), ("SPECT", "en"), ("Szintigraphie", "de")),
    "US": (
        ("sonography", "en"),
        ("ultrasonography", "en"),
        ("echography", "en"),
        ("Sonographie", "de"),
        ("échographie", "fr"),
        ("ecografía", "es"),
    ),
    "MG": (("mammogram", "en"), ("Mammographie", "de")),
    "XA": (("angiography", "en"),),
    "RF": (("fluoroscopy", "en"), ("Durchleuchtung", "de")),
}
# Retired DICOM modality terms (PS3.3 C.7.3.1.1.1) and the current term that replaced them.
_RETIRED_MODALITIES: dict[str, str] = {
    "CD": "US",
    "CF": "RF",
    "CS": "ES",
    "DD": "US",
    "DF": "RF",
    "DS": "XA",
    "EC": "US",
    "FA": "OP",
    "LP": "ES",
    "MA": "MR",
    "MS": "MR",
    "ST": "NM",
    "VF": "RF",
}
# pydicom types its generated tables loosely: keyword -> {code: (meaning, [CID])}
_Codes = dict[str, dict[str, tuple[str, list[int]]]]


def _concepts(scheme: str) -> _Codes:
    return cast(_Codes, _concepts_dict.concepts[scheme])


def modalities() -> Vocabulary:
    v = Vocabulary(
        name="dicom-modality",
        scheme=vocab.SCHEME + "dicom-modality",
        title="DICOM modalities (CID 29 and CID 33)",
        version=f"pydicom {pydicom.__version__}",
        source="pydicom.sr._cid_dict CID 29, CID 33; pydicom.sr._concepts_dict DCM",
        licence="DICOM PS3.16 (NEMA, free to use); pydicom MIT",
        note="Modality codes with DICOM's meanings; synonyms and retired terms added by us.",
    )
    dcm = _concepts("DCM")
    keywords = set(_cid_dict.cid_concepts[29]["DCM"]) | set(_cid_dict.cid_concepts[33]["DCM"])
    for keyword in sorted(keywords):
        for code, (meaning, _) in dcm[keyword].items():
            concept = v.concept(vocab.DCM + code, meaning)
            for text, lang in _MODALITY_SYNONYMS.get(code, ()):
                concept.add_alt(text, lang)
    for retired, current in _RETIRED_MODALITIES.items():
        v.concepts[vocab.DCM + current].hidden.add((retired, ""))
    return v


def _snomed_meanings() -> dict[str, list[tuple[str, str]]]:
    """SNOMED CT code -> [(pydicom keyword, meaning)] from pydicom's PS3.16 dictionary."""
    found: dict[str, list[tuple[str, str]]] = {}
    for keyword, codes in _concepts("SCT").items():
        for code, (meaning, _) in codes.items():
            found.setdefault(code, []).append((keyword, meaning))
    return found


def _annex_l() -> dict[str, tuple[str, str]]:
    """BodyPartExamined defined term -> (SNOMED CT code, meaning), from highdicom's table."""
    text = resources.files("highdicom").joinpath("_standard/anatomic_regions.json").read_text()
    table = json.loads(text)
    return {term: (row[1], row[2]) for term, row in table.items() if row[0] == "SCT"}


def _cid_4031() -> dict[str, tuple[str, str]]:
    """CID 4031 keyword -> (SNOMED CT code, meaning)."""
    sct = _concepts("SCT")
    out: dict[str, tuple[str, str]] = {}
    for keyword in _cid_dict.cid_concepts[4031]["SCT"]:
        for code, (meaning, _) in sct[keyword].items():
            out[keyword] = (code, meaning)
    return out


def _labels(
    code: str, annex: list[tuple[str, str]], cid: list[str], pydicom_: list[str]
) -> list[str]:
    """Candidate labels, best first: Annex L (approach terms "Endo-..." last), CID 4031, pydicom."""
    plain = [m for term, m in sorted(annex) if not term.startswith("ENDO")]
    endo = [m for term, m in sorted(annex) if term.startswith("ENDO")]
    # pydicom also carries SNOMED's fully specified names, "... (body structure)": not labels.
    extra = [m for m in sorted(pydicom_) if not m.endswith(")") and not m.startswith("Endo-")]
    ordered = [*plain, *cid, *extra, *endo]
    return list(dict.fromkeys(ordered)) or [code]


def anatomy() -> Vocabulary:
    v = Vocabulary(
        name="dicom-anatomy",
        scheme=vocab.SCHEME + "dicom-anatomy",
        title="DICOM anatomy (PS3.16 Annex L BodyPartExamined and CID 4031)",
        version=f"pydicom {pydicom.__version__}; highdicom anatomic_regions.json",
        source="highdicom _standard/anatomic_regions.json; pydicom.sr CID 4031",
        licence="SNOMED CT codes as published in DICOM PS3.16 (NEMA, licensed by SNOMED "
        "International for DICOM use); hierarchy and translations ours (Apache-2.0)",
        note="Only the SNOMED CT concepts DICOM publishes. The broader links are a curated "
        "part-of/is-a hierarchy for search, not SNOMED CT's own relationships.",
    )
    annex, cid = _annex_l(), _cid_4031()
    meanings = _snomed_meanings()
    by_code: dict[str, list[tuple[str, str]]] = {}
    for term, (code, meaning) in annex.items():
        by_code.setdefault(code, []).append((term, meaning))
    cid_by_code: dict[str, list[str]] = {}
    for code, meaning in cid.values():
        cid_by_code.setdefault(code, []).append(meaning)
    for code in sorted(set(by_code) | set(cid_by_code)):
        pyd = [m for _, m in meanings.get(code, [])]
        labels = _labels(code, by_code.get(code, []), cid_by_code.get(code, []), pyd)
        concept = v.concept(vocab.SNOMED + code, labels[0])
        for label in labels[1:]:
            concept.add_alt(label)
        for term, _ in by_code.get(code, []):
            concept.notations.add((term, vocab.BODY_PART_EXAMINED))
    _link(v, {**{k: c for k, (c, _) in cid.items()}, **{k: c for k, (c, _) in annex.items()}})
    return v


def _link(v: Vocabulary, code_of: dict[str, str]) -> None:
    """Apply the curated hierarchy and translations; unknown keys are a bug in the tables."""
    for child, parents in PARENTS.items():
        concept = v.concepts[vocab.SNOMED + code_of[child]]
        concept.broader.update(vocab.SNOMED + code_of[p] for p in parents)
    for key, names in SYNONYMS.items():
        concept = v.concepts[vocab.SNOMED + code_of[key]]
        for text, lang in names:
            concept.add_alt(text, lang)
