"""Which concepts each coded field may map to."""

from __future__ import annotations

from dataclasses import dataclass

from ontology import vocab


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """`prefixes`: code systems whose concepts the field accepts, preferred first (explicit codes,
    mapping tables and rules are checked against them). `schemes`: the concept schemes whose
    labels and bare codes are matched; empty means every concept under those prefixes."""

    prefixes: tuple[str, ...]
    schemes: tuple[str, ...] = ()


DEFAULT_FIELDS: dict[str, FieldSpec] = {
    "modality": FieldSpec(("DCM",), (vocab.SCHEME + "dicom-modality",)),
    "body_part": FieldSpec(("SCTID",), (vocab.SCHEME + "dicom-anatomy",)),
    "sequence_type": FieldSpec(("MRSEQ",), (vocab.SCHEME + "mr-sequence",)),
    "contrast": FieldSpec(("CONTRAST",), (vocab.SCHEME + "contrast-phase",)),
    "diagnosis": FieldSpec(
        ("ICD10WHO", "ICD10CM", "SCTID"), (vocab.SCHEME + "icd10who", vocab.SCHEME + "icd10cm")
    ),
    "species": FieldSpec(("NCBITaxon",), (vocab.SCHEME + "ncbitaxon-lab",)),
}
