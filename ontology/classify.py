"""MR series classifier: sequence type (BIDS-aligned) and contrast phase from DICOM header fields.

Evidence comes from the SeriesDescription, ProtocolName, ImageType, sequence name and, for the
anatomical weightings only, TR/TE/TI/flip angle. A ReproIn name decides on its own. Otherwise
each field contributes at most one finding; findings for the same class combine (noisy-OR,
weighted by how much the field is trusted), a competing class lowers the confidence, and a
derived map absorbs the evidence of its source series (an ADC series carries "diff" in its
protocol). Below `THRESHOLD` the answer is None: "unknown" is cheaper than a wrong class.

Pure Python, patterns compiled at import; callers cache repeated values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from ontology._classify_fields import (
    image_type_finding,
    inversion_weighting,
    is_epi,
    physics_finding,
    sequence_finding,
)
from ontology._classify_text import (
    INVERSION_RECOVERY,
    NOT_A_TYPE,
    Contrast,
    Finding,
    names_localizer,
    normalise,
    parse_reproin,
    text_contrast,
    text_finding,
)

__all__ = ["SEQUENCE_TYPES", "THRESHOLD", "Classification", "classify_series"]

SEQUENCE_TYPES: Final = frozenset(
    {"T1w", "T2w", "PDw", "FLAIR", "T2starw", "SWI", "DWI", "BOLD", "ASL", "localizer",
     "ADC", "FA", "TRACE", "T1map", "T2map", "MRA", "fieldmap"}
)  # fmt: skip
THRESHOLD: Final = 0.6

# How far each field is trusted; the description is what the technologist chose to show.
_WEIGHTS: Final = {
    "description": 1.0, "protocol": 0.9, "image-type": 0.85, "sequence": 0.8, "physics": 0.85,
}  # fmt: skip
# A derived map (or a recognised non-type derived from a series) outranks its source series.
_SOURCE_OF: Final = {
    "ADC": "DWI", "FA": "DWI", "TRACE": "DWI", "-eadc": "DWI", "T1map": "T1w", "T2map": "T2w",
    "-inversion-image": "T1w", "-t2star-map": "T2starw",
}  # fmt: skip
# TR/TE/TI only tell these apart; for DWI, BOLD and the rest they would mislead.
_ANATOMICAL: Final = frozenset({"T1w", "T2w", "PDw", "FLAIR", "T2starw"})
_REPROIN_CONFIDENCE: Final = 0.97


@dataclass(frozen=True, slots=True)
class Classification:
    """The answer for one series.

    `sequence_type` is one of `SEQUENCE_TYPES`, or None for unknown. `confidence` (0..1) is for
    the answer given: for a class, how sure the rules are; for None, how sure they are that no
    class applies (high for a dose report or a spectroscopy series, 0.0 when nothing was
    recognised or the evidence was too weak or contradictory). `reason` names the rules that
    decided, never input values.
    """

    sequence_type: str | None
    contrast: Literal["pre", "post"] | None
    confidence: float
    reason: str


@dataclass(frozen=True, slots=True)
class _Sourced:
    source: str
    finding: Finding

    @property
    def weight(self) -> float:
        return _WEIGHTS[self.source] * self.finding.score

    @property
    def name(self) -> str:
        return f"{self.source}:{self.finding.rule}"


def classify_series(
    description: str | None,
    protocol: str | None = None,
    image_type: Sequence[str] = (),
    sequence_name: str | None = None,
    repetition_time_ms: float | None = None,
    echo_time_ms: float | None = None,
    inversion_time_ms: float | None = None,
    flip_angle_deg: float | None = None,
    modality: str | None = "MR",
    contrast_agent: bool | None = None,
) -> Classification:
    """Classify one MR series; see the module docstring for how evidence combines.

    `contrast_agent` is whether ContrastBolusAgent is filled in: True means post unless the name
    says "pre"; False is no evidence, since many sites never fill the attribute.
    """
    description, protocol = description or "", protocol or ""
    if isinstance(image_type, str):  # a backslash-joined DICOM value, passed as it comes
        image_type = image_type.split("\\")
    texts = _texts(description, protocol)
    contrast = _contrast(texts, contrast_agent)
    if modality and modality.strip().upper() not in ("MR", "MRI"):
        return _non_mr(texts, image_type, contrast)
    reproin = parse_reproin(description.strip()) or parse_reproin(protocol.strip())
    if reproin is not None:
        phase = reproin.contrast or contrast
        return Classification(reproin.label, phase, _REPROIN_CONFIDENCE, "reproin")
    findings = _findings(texts, image_type, sequence_name or "", inversion_time_ms)
    physics = physics_finding(repetition_time_ms, echo_time_ms, inversion_time_ms, flip_angle_deg)
    if physics is not None and _physics_applies(findings, sequence_name or "", image_type):
        findings.append(_Sourced("physics", physics))
    return _decide(findings, contrast)


def _texts(description: str, protocol: str) -> list[tuple[str, str, str]]:
    """(source, raw, normalised) for the description and, if it says more, the protocol."""
    texts = [("description", description, normalise(description))]
    if protocol and protocol != description:
        normalised = normalise(protocol)
        if normalised != texts[0][2]:
            texts.append(("protocol", protocol, normalised))
    return texts


def _findings(
    texts: Iterable[tuple[str, str, str]],
    image_type: Sequence[str],
    sequence_name: str,
    ti: float | None,
) -> list[_Sourced]:
    found = [(source, text_finding(normalised)) for source, _, normalised in texts]
    found.append(("image-type", image_type_finding(image_type)))
    found.append(("sequence", sequence_finding(sequence_name)))
    weighting = inversion_weighting(ti)
    sourced: list[_Sourced] = []
    for source, finding in found:
        if finding is not None and finding.label == INVERSION_RECOVERY:
            # Without a TI in a known band "tirm" may be FLAIR or STIR: kept, worth nothing,
            # so that the reason says what was missing.
            if weighting is None:
                finding = replace(finding, score=0.0)
            else:
                finding = replace(finding, label=weighting)
        if finding is not None:
            sourced.append(_Sourced(source, finding))
    return sourced


def _physics_applies(
    findings: list[_Sourced], sequence_name: str, image_type: Sequence[str]
) -> bool:
    if is_epi(sequence_name, image_type):
        return False
    leader = _leader(findings)
    return leader is None or leader in _ANATOMICAL


def _leader(findings: list[_Sourced]) -> str | None:
    supports = _supports(findings)
    return max(supports, key=supports.__getitem__) if supports else None


def _supports(findings: list[_Sourced]) -> dict[str, float]:
    """Noisy-OR of the weighted findings per label, a derived map absorbing its source."""
    absorb = _absorption(findings)
    missing: dict[str, float] = {}
    for item in findings:
        label = absorb.get(item.finding.label, item.finding.label)
        missing[label] = missing.get(label, 1.0) * (1.0 - item.weight)
    return {label: 1.0 - rest for label, rest in missing.items()}


def _absorption(findings: list[_Sourced]) -> dict[str, str]:
    """Source label -> the derived label found with it ("DWI" -> "ADC" on an ADC series)."""
    labels = {item.finding.label for item in findings}
    return {source: derived for derived, source in _SOURCE_OF.items() if derived in labels}


def _decide(findings: list[_Sourced], contrast: Contrast | None) -> Classification:
    if not findings:
        return Classification(None, contrast, 0.0, "no rule matched")
    supports = _supports(findings)
    ranked = sorted(supports.items(), key=lambda kv: (-kv[1], kv[0]))
    label, support = ranked[0]
    rival = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = round(support * (1.0 - 0.5 * rival), 3)
    absorb = _absorption(findings)
    winners = [i for i in findings if absorb.get(i.finding.label, i.finding.label) == label]
    names = "+".join(item.name for item in winners)
    contrast = contrast or next((i.finding.contrast for i in winners if i.finding.contrast), None)
    if label.startswith(NOT_A_TYPE):
        return Classification(None, contrast, confidence, f"not a sequence type ({names})")
    if confidence < THRESHOLD or label not in SEQUENCE_TYPES:
        reason = f"below threshold: {label} ({names})"
        if rival:
            reason = f"{reason} against {ranked[1][0]}"
        return Classification(None, contrast, 0.0, reason)
    return Classification(label, contrast, confidence, names)


def _contrast(
    texts: Iterable[tuple[str, str, str]], contrast_agent: bool | None
) -> Contrast | None:
    """The description's phase, else the protocol's, else ContrastBolusAgent's presence."""
    for _, raw, normalised in texts:
        stated = text_contrast(raw, normalised)
        if stated is not None:
            return stated
    return "post" if contrast_agent else None


def _non_mr(
    texts: Iterable[tuple[str, str, str]], image_type: Sequence[str], contrast: Contrast | None
) -> Classification:
    """Other modalities: only a localizer (CT topogram, scout) is clear enough to name."""
    by_text = any(names_localizer(normalised) for _, _, normalised in texts)
    by_image_type = any(value.strip().upper() == "LOCALIZER" for value in image_type)
    if by_text or by_image_type:
        return Classification("localizer", contrast, 0.9, "non-MR localizer")
    return Classification(None, contrast, 0.0, "non-MR modality")
