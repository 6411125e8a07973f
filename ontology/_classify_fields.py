"""Header evidence for the series classifier: sequence name, ImageType, and the physics fallback.

These fields are terser than a description and shared by several series types, so their rules
score lower; TR/TE/TI/flip only speak for the anatomical weightings and never for EPI series.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Final

from ontology._classify_text import INVERSION_RECOVERY, Finding

# --- sequence names (Siemens "*tfl3d1_16ns", GE "efgre3d", Philips "T1TFE") ------------------

# Anchored at the start, so one alternation tried in order keeps "first rule wins".
_SEQUENCE_RULES: Final = (
    ("spectroscopy", "-spectroscopy", 0.9, r"svs|csi"),
    ("swi", "SWI", 0.9, r"swi"),
    ("gre-fieldmap", "fieldmap", 0.9, r"fm\dd"),
    ("tof", "MRA", 0.8, r"fl3d1r|tof"),
    ("mprage", "T1w", 0.75, r"tfl3d|efgre3d|mprage|bravo"),
    ("philips-t1", "T1w", 0.85, r"t1(?:tfe|ffe|se|tse)"),
    ("philips-t2", "T2w", 0.85, r"t2(?:tse|fse)"),
    ("philips-t2ffe", "T2starw", 0.85, r"t2ffe"),
    ("flair", "FLAIR", 0.85, r"flair|spcir"),
    ("inversion-recovery", INVERSION_RECOVERY, 0.75, r"tir|ir$"),
    ("haste", "T2w", 0.75, r"h2d|haste"),
    ("dwi-derived", "DWI", 0.6, r"(?:ep|re|rs)_b0"),  # ADC/FA/b0: the family, not the map
    ("dwi", "DWI", 0.85, r"(?:ep|re|rs)_b[1-9]|dwi|dti"),
    ("gre-epi", "BOLD", 0.5, r"epfid|fe_?epi"),  # ASL and DSC perfusion use it too
    ("grase-asl", "ASL", 0.7, r"tgse"),
    ("multi-echo-gre", "T2starw", 0.7, r"me[23]d"),
)
_SEQUENCE: Final = re.compile(
    "|".join(f"(?P<s{index}>{rule[3]})" for index, rule in enumerate(_SEQUENCE_RULES))
)


def sequence_finding(sequence_name: str) -> Finding | None:
    """The first sequence-name rule that matches (Siemens' leading "*" ignored)."""
    match = _SEQUENCE.match(sequence_name.strip().lstrip("*").lower())
    if match is None or match.lastgroup is None:
        return None
    rule, label, score, _ = _SEQUENCE_RULES[int(match.lastgroup[1:])]
    return Finding(label, score, rule)


_EPI_SEQUENCE = re.compile(r"^\*?(?:ep|epi|epfid|epse|fe_?epi|feepi|re_|rs_)", re.IGNORECASE)


def is_epi(sequence_name: str, image_type: Sequence[str]) -> bool:
    """EPI series (DWI, BOLD, ASL, DSC) whose TR/TE say nothing about T1/T2/PD weighting."""
    if _EPI_SEQUENCE.match(sequence_name.strip()):
        return True
    return any(value.strip().upper() in _EPI_IMAGE_TYPES for value in image_type)


_EPI_IMAGE_TYPES: Final = frozenset({"MOSAIC", "DIFFUSION", "EPI", "ASL", "FMRI"})

# --- ImageType values ----------------------------------------------------------------------

_IMAGE_TYPES: Final = {
    "ADC": ("ADC", 0.95), "FA": ("FA", 0.95), "TRACEW": ("TRACE", 0.95),
    "ISOTROPIC": ("TRACE", 0.9), "T1 MAP": ("T1map", 0.9), "T1MAP": ("T1map", 0.9),
    "T1_MAP": ("T1map", 0.9), "T2 MAP": ("T2map", 0.9), "T2MAP": ("T2map", 0.9),
    "T2_MAP": ("T2map", 0.9), "T2_STAR MAP": ("-t2star-map", 0.85),
    "T2STAR_MAP": ("-t2star-map", 0.85), "LOCALIZER": ("localizer", 0.95), "ASL": ("ASL", 0.85),
    "SWI": ("SWI", 0.85), "MNIP": ("SWI", 0.75), "MINIP": ("SWI", 0.75),
    "DIFFUSION": ("DWI", 0.75), "TENSOR": ("DWI", 0.75), "B0": ("fieldmap", 0.75),
    "SPECTROSCOPY": ("-spectroscopy", 0.95), "SCREEN SAVE": ("-report", 0.9),
}  # fmt: skip
_IMAGE_TYPE_RULES: Final = {value: value.lower().replace(" ", "-") for value in _IMAGE_TYPES}


def image_type_finding(image_type: Sequence[str]) -> Finding | None:
    """The strongest ImageType value that names a type (ADC outranks DIFFUSION)."""
    best: Finding | None = None
    for value in image_type:
        hit = _IMAGE_TYPES.get(value.strip().upper())
        if hit is not None and (best is None or hit[1] > best.score):
            best = Finding(hit[0], hit[1], _IMAGE_TYPE_RULES[value.strip().upper()])
    return best


def inversion_weighting(ti: float | None) -> str | None:
    """What an inversion-recovery series shows, by its inversion time (ms)."""
    if ti is None or not math.isfinite(ti):
        return None
    if 1400 <= ti <= 3000:
        return "FLAIR"  # fluid nulled
    if 500 <= ti <= 1200:
        return "T1w"  # T1 FLAIR, T1 TIRM
    if 80 <= ti <= 300:
        return "T2w"  # STIR: fat nulled, fluid bright
    return None


# --- physics fallback ----------------------------------------------------------------------


def physics_finding(
    tr: float | None, te: float | None, ti: float | None, flip: float | None
) -> Finding | None:
    """Weighting from TR/TE/TI (ms) and flip angle (deg) for spin-echo and gradient-echo series.

    Only textbook regions count; anything in between is left to other evidence. Rules score
    0.8 at most: a description beats a parameter guess.
    """
    if tr is None or te is None or not (math.isfinite(tr) and math.isfinite(te)):
        return None
    if ti is not None and math.isfinite(ti) and ti > 0:
        return _inversion_recovery(tr, te, ti, flip)
    gradient_echo = flip is not None and math.isfinite(flip) and flip < 60
    if gradient_echo:
        return _gradient_echo(tr, te, flip)
    return _spin_echo(tr, te)


def _inversion_recovery(tr: float, te: float, ti: float, flip: float | None) -> Finding | None:
    low_flip = flip is not None and flip <= 20
    if 1400 <= ti <= 3000 and tr >= 4000 and te >= 70:
        return Finding("FLAIR", 0.8, "physics-fluid-nulling-ti")
    if 600 <= ti <= 1200 and tr >= 1500 and te < 10 and low_flip:
        return Finding("T1w", 0.8, "physics-mprage")
    if 300 <= ti <= 1200 and tr < 20 and te < 10 and low_flip:
        return Finding("T1w", 0.75, "physics-ir-prepared-gre")
    if 600 <= ti <= 1200 and 1500 <= tr <= 3500 and te < 30 and not low_flip:
        return Finding("T1w", 0.75, "physics-t1-ir")
    if 80 <= ti <= 300 and tr >= 2000 and te >= 30:
        return Finding("T2w", 0.7, "physics-stir")
    return None


def _gradient_echo(tr: float, te: float, flip: float | None) -> Finding | None:
    if 200 <= tr <= 1500 and te >= 12 and flip is not None and flip <= 40:
        return Finding("T2starw", 0.8, "physics-t2star-gre")
    if 100 <= tr <= 700 and te < 8 and flip is not None and flip >= 50:
        return Finding("T1w", 0.75, "physics-t1-spoiled-gre")
    return None


def _spin_echo(tr: float, te: float) -> Finding | None:
    if 300 <= tr <= 800 and te < 30:
        return Finding("T1w", 0.8, "physics-short-tr-short-te")
    if tr > 2000 and te > 80:
        return Finding("T2w", 0.8, "physics-long-tr-long-te")
    if tr > 2000 and te < 40:
        return Finding("PDw", 0.75, "physics-long-tr-short-te")
    return None
