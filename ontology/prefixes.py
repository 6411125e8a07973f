"""CURIE prefixes: the canonical ones (bioregistry's, see docs/ontology.md), their aliases, and
the prefixes that user ontologies declare."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ontology import vocab

OBO = "http://purl.obolibrary.org/obo/"
_OBO_ID = re.compile(r"([A-Za-z][A-Za-z0-9]*)_([A-Za-z0-9_.-]+)")

# Canonical CURIE prefix -> namespace. SCTID, NCBITaxon and ICD10WHO are bioregistry's OBO-context
# prefixes for snomedct, ncbitaxon and icd10; DCM is DICOM's own designator for bioregistry's
# "dicom"; ICD10CM uses BioPortal's PURLs (bioregistry's default is a search page, not an IRI).
CANONICAL: dict[str, str] = {
    "SCTID": vocab.SNOMED,
    "DCM": vocab.DCM,
    "NCBITaxon": vocab.NCBITAXON,
    "ICD10CM": vocab.ICD10CM,
    "ICD10WHO": vocab.ICD10WHO,
    "MRSEQ": vocab.SEQUENCE,
    "CONTRAST": vocab.CONTRAST,
}
# What sites and other tools write instead (compared in upper case).
ALIASES: dict[str, str] = {
    "SCT": "SCTID",
    "SNOMED": "SCTID",
    "SNOMEDCT": "SCTID",
    "SNOMEDCT_US": "SCTID",
    "SNOMED_CT": "SCTID",
    "DICOM": "DCM",
    "TAXON": "NCBITaxon",
    "NCBI_TAXON": "NCBITaxon",
    "TAXID": "NCBITaxon",
    "ICD-10-CM": "ICD10CM",
    "ICD10": "ICD10WHO",
    "ICD-10": "ICD10WHO",
    "ICD": "ICD10WHO",
}


class PrefixMap:
    """Expands CURIEs and compresses IRIs; the first namespace bound to a prefix wins."""

    def __init__(self) -> None:
        self._ns: dict[str, str] = {}
        self._prefix_of: dict[str, str] = {}
        self._upper: dict[str, str] = {}
        self.add(CANONICAL.items())
        self._upper.update(ALIASES)

    def add(self, pairs: Iterable[tuple[str, str]]) -> None:
        for prefix, namespace in pairs:
            if prefix in self._ns or namespace in self._prefix_of or not namespace:
                continue
            self._ns[prefix] = namespace
            self._prefix_of[namespace] = prefix
            self._upper.setdefault(prefix.upper(), prefix)

    @property
    def namespaces(self) -> dict[str, str]:
        return dict(self._ns)

    def canonical(self, prefix: str) -> str | None:
        """The canonical spelling of a prefix or alias, or None when unknown."""
        return prefix if prefix in self._ns else self._upper.get(prefix.upper())

    def expand(self, curie: str) -> str | None:
        prefix, sep, local = (part.strip() for part in curie.partition(":"))
        if not sep or not local:
            return None
        canonical = self.canonical(prefix)
        if canonical is not None:
            return self._ns[canonical] + local
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", prefix) and not local.startswith("/"):
            return f"{OBO}{prefix}_{local}"  # the OBO Foundry convention for any other prefix
        return None

    def split(self, iri: str) -> tuple[str, str] | None:
        """(prefix, local part) of an IRI under a known namespace, longest namespace first;
        OBO PURLs split the OBO way (``.../obo/UBERON_0000955`` is ``UBERON:0000955``)."""
        if iri.startswith(OBO):
            found = _OBO_ID.fullmatch(iri[len(OBO) :])
            if found:
                prefix = self.canonical(found.group(1)) or found.group(1)
                return prefix, found.group(2)
        for cut in sorted((iri.rfind("/"), iri.rfind("#"), iri.rfind("_")), reverse=True):
            prefix = self._prefix_of.get(iri[: cut + 1]) if cut >= 0 else None
            if prefix is not None and cut + 1 < len(iri):
                return prefix, iri[cut + 1 :]
        best = max((ns for ns in self._prefix_of if iri.startswith(ns)), key=len, default=None)
        if best is None or best == iri:
            return None
        return self._prefix_of[best], iri[len(best) :]

    def compress(self, iri: str) -> str | None:
        parts = self.split(iri)
        return f"{parts[0]}:{parts[1]}" if parts else None
