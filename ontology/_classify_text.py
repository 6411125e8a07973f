"""Text evidence for the series classifier: normalising names, ReproIn names, keyword rules.

Every pattern is compiled once at import; a call only runs `search` on short normalised strings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal

from ontology._classify_index import RuleIndex

Contrast = Literal["pre", "post"]

# A label starting with "-" says "recognised, and not one of the sequence types" (a report,
# spectroscopy, a cine...): it competes with the classes so that the answer becomes None.
NOT_A_TYPE: Final = "-"
# An inversion-recovery series whose inversion time decides the weighting (FLAIR, T1w, STIR).
INVERSION_RECOVERY: Final = "?inversion-recovery"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of evidence: a label, how much the rule alone is worth (0..1), the rule's name."""

    label: str
    score: float
    rule: str
    contrast: Contrast | None = None  # implied by the rule itself (DSC perfusion is post)


# --- normalisation -------------------------------------------------------------------------

# Philips prefixes copies of an ExamCard entry with "WIP"/"sWIP" (case matters: "SWIp" is SWI).
_WIP = re.compile(r"(?<![A-Za-z])s?WIP(?![A-Za-z])")
_T2STAR = re.compile(r"t2[\s_-]*(?:\*|star)", re.IGNORECASE)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Words typed without a separator: "T2FLAIR", "3DT1weighted", "SAGT1".
_GLUED = re.compile(
    r"(?<=[a-z0-9])(?=flair|weighted)"
    r"|(?:(?<=\bax)|(?<=\bsag)|(?<=\bcor)|(?<=\btra))(?=t[12]w?\b|pd\b|flair|dwi\b)"
)


def normalise(text: str) -> str:
    """Lower-case alphanumeric tokens separated by single spaces, padded with spaces.

    Separators, case and accents go; "T2*" becomes "t2star". Where camelCase splitting changes
    the tokens ("AAHead_Scout", "dADC"), both spellings are kept, joined by " | ", so a rule can
    match "eadc" before "adc" sees the split form.
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    if "WIP" in text:
        text = _WIP.sub(" ", text)
    lowered = text.lower()
    if "*" in text or "star" in lowered:
        text = _T2STAR.sub("t2star", text)
        lowered = text.lower()
    plain = _NON_ALNUM.sub(" ", lowered).strip()
    split = plain
    if lowered != text and text.upper() != text:  # mixed case: camelCase may separate words
        split = _NON_ALNUM.sub(" ", _CAMEL.sub(" ", text).lower()).strip()
    if _GLUED.search(split):
        split = _GLUED.sub(" ", split)
    return f" {plain} " if split == plain else f" {plain} | {split} "


# --- keyword rules over descriptions and protocol names ------------------------------------

# (rule, label, score, pattern[, implied contrast]); the first rule that matches wins, so the
# order encodes precedence: non-sequences that share words with classes, then derived maps
# before their source series, then specific techniques, then plain weightings, then weak hints.
_RuleSpec = tuple[str, str, float, str] | tuple[str, str, float, str, Contrast]
# fmt: off
_TEXT_RULES: Final[tuple[_RuleSpec, ...]] = (
    ("calibration", "-calibration", 0.9, r"asset ?cal\w*|calibration|cal|calib|ref|ref ?scan"
     r"|refscan|sense ?ref\w*|coil ?survey|coil ?ref\w*|coil ?sens\w*|b1 ?map\w*|b1map|dream"
     r"|bias"),
    ("localizer", "localizer", 0.95, r"localis\w*|localiz\w*|loc|3 ?pl|3 ?plane|tri ?pilot"
     r"|pilot|scout|survey\w*|surview|smart ?brain\w*|smart ?exam\w*|topogram|scanogram"
     r"|locator|aahead"),
    ("report", "-report", 0.95, r"phoenix\w*|report|summary|screen ?save|screenshot|dose"
     r"|evidence|patient ?protocol"),
    ("spectroscopy", "-spectroscopy", 0.95, r"svs\w*|csi\w*|mrs|mrsi|spectro\w*|press|steam"
     r"|mega ?press|probe\w*|sv|chess"),
    ("eadc", "-eadc", 0.9, r"eadc|exponential|exp ?adc"),
    ("adc", "ADC", 0.95, r"adc|dadc|apparent diffusion"),
    ("fa", "FA", 0.93, r"fa|colfa|fa ?map|fractional ?aniso\w*"),
    ("trace", "TRACE", 0.93, r"tracew|trace ?weighted|isotropic|iso ?dwi"),
    ("mp2rage-inversion", "-inversion-image", 0.85, r"inv ?1|inv ?2"),
    ("t2star-map", "-t2star-map", 0.85, r"t2star ?map\w*|r2star\w*|t2star ?mapping"),
    ("t1map", "T1map", 0.93, r"t1 ?map|t1 ?maps|t1 ?mapping|molli|shmolli|sasha|t1 ?images"
     r"|despot1|vfa ?map"),
    # Variable-flip-angle series are inputs of a T1 map, weighted by their own flip angle.
    ("vfa-source", "-vfa-source", 0.85, r"vfa"),
    ("t2map", "T2map", 0.93, r"t2 ?map|t2 ?maps|t2 ?mapping|t2map\w*|mese|t2 ?relax\w*"),
    ("asl", "ASL", 0.95, r"asl|pasl|pcasl|casl|picore|q2tips|arterial ?spin\w*"
     r"|perfusion ?weighted|m0 ?scan"),
    # Without ASL words, perfusion is dynamic susceptibility contrast: a bolus was given.
    ("dsc-perfusion", "-dsc-perfusion", 0.85, r"perf|perfusion|dsc|rcbv|cbv|mtt|ttp", "post"),
    ("fieldmap", "fieldmap", 0.93, r"field ?map\w*|fmap|b0 ?map\w*|b0map\w*|topup|fm2d\w*"),
    ("mra-time-resolved", "MRA", 0.9, r"tricks|twist|timeless|tresolved", "post"),
    ("mra", "MRA", 0.93, r"tof\w*|mra|mrv|angio\w*|inflow|cow|venogra\w*|pca"),
    ("flow", "-flow", 0.85, r"q ?flow\w*|flow|pc ?flow|velocity|venc\w*"),
    ("swi", "SWI", 0.93, r"swi\w*|swan|susceptibility|ven ?bold|mnip|minip|sw"),
    ("bold", "BOLD", 0.93, r"bold|fmri\w*|rfmri|tfmri|rsfmri|rs ?fmri|resting ?state"),
    ("bold-weak", "BOLD", 0.75, r"rest|resting|rest\d|mocoseries|moco|pace"),
    ("dwi", "DWI", 0.93, r"dwi\w*|diff\w*|difus\w*|dti\w*|dki|hardi|mddw|dmri|resolve|tensor"
     r"|ivim|noddi|multishell|b\d{3,4}|\d{3,4} ?b"),
    ("ssfp", "-ssfp-cine", 0.85, r"cine\w*|fiesta\w*|trufi\w*|true ?fisp|bffe|btfe|balanced"
     r"|ciss\w*"),
    ("dual-echo", "-dual-echo", 0.8, r"pd ?t2|pd ?t2w|t2 ?pd|t2w ?pd|de ?tse|dual ?echo"),
    ("t1-flair", "T1w", 0.93, r"t1w? (?:\w+ )?(?:flair|tirm|ir)|(?:flair|tirm) (?:\w+ )?t1w?"),
    ("stir", "T2w", 0.85, r"stir|t2 ?stir"),
    ("flair", "FLAIR", 0.95, r"flair\w*|dark ?fluid|da ?fl|dafl|fluid ?att\w*"),
    # "Turbo inversion recovery magnitude": dark-fluid or STIR, which only TI tells apart.
    ("inversion-recovery", INVERSION_RECOVERY, 0.8, r"tirm"),
    ("t2star", "T2starw", 0.93, r"t2star\w*|t2s|hemo\w*|haemo\w*|medic|merge|mge"
     r"|t2w? (?:ffe|gre|fl2d|fl3d|fgre|eg)|(?:ffe|gre|fgre|fe) t2w?"),
    ("pd", "PDw", 0.93, r"pd\w*|proton ?density|dp"),
    ("t1", "T1w", 0.92, r"t1\w*|3d ?t1"),
    ("t2", "T2w", 0.92, r"t2\w*"),
    ("t1-technique", "T1w", 0.9, r"mp ?rage\w*|memprage|mp2rage|bravo|ir ?fspgr|ir ?spgr|fspgr"
     r"|spgr|tfe|vibe|starvibe|lava|thrive|ethrive|dixon|mdixon|flash|quick ?3d|uni|uni ?den"
     r"|dce"),
    ("t2-technique", "T2w", 0.88, r"haste|ssfse|ss ?fse|frfse|ssh ?tse|propeller|blade|mrcp"
     r"|drive"),
    ("3d-or-fast-se", "T2w", 0.55, r"space|spc\w*|cube|vista|tse|fse|rare"),
    ("gre", "T2starw", 0.55, r"gre|ffe|fgre"),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    label: str
    score: float
    contrast: Contrast | None


TEXT_RULES: Final = tuple(
    _Rule(spec[0], spec[1], spec[2], spec[4] if len(spec) == 5 else None) for spec in _TEXT_RULES
)
_TEXT_INDEX: Final = RuleIndex([spec[3] for spec in _TEXT_RULES])
_LOCALIZER_INDEX: Final = RuleIndex([spec[3] for spec in _TEXT_RULES if spec[1] == "localizer"])


def text_finding(normalised: str) -> Finding | None:
    """The first rule matching a normalised description or protocol name."""
    index = _TEXT_INDEX.first(normalised)
    if index is None:
        return None
    rule = TEXT_RULES[index]
    return Finding(rule.label, rule.score, rule.name, rule.contrast)


def names_localizer(normalised: str) -> bool:
    """Whether a name says localizer (used alone for other modalities: CT topogram, scout)."""
    return _LOCALIZER_INDEX.first(normalised) is not None


# --- ReproIn / BIDS-style names ------------------------------------------------------------

_REPROIN_HEAD = re.compile(r"^(anat|func|dwi|fmap|perf)(?:-([A-Za-z0-9]+))?(?:_|$)")
_ENTITY = re.compile(r"^[a-z]+-[A-Za-z0-9]+$")
_ANAT: Final = {
    "t1w": "T1w", "t1": "T1w", "inplanet1": "T1w", "unit1": "T1w",
    "t2w": "T2w", "t2": "T2w", "inplanet2": "T2w",
    "pdw": "PDw", "pd": "PDw", "flair": "FLAIR", "t2starw": "T2starw", "t2star": "T2starw",
    "swimagandphase": "SWI", "swi": "SWI", "angio": "MRA", "scout": "localizer",
    "localizer": "localizer", "t1map": "T1map", "t2map": "T2map",
}  # fmt: skip
_DEFAULT: Final = {"func": "BOLD", "dwi": "DWI", "fmap": "fieldmap", "perf": "ASL"}
_ALLOWED: Final = {"func": {"bold", "sbref"}, "dwi": {"dwi", "sbref"}, "perf": {"asl", "m0scan"}}
# Suffixes the scanner appends to derived series of a ReproIn-named protocol.
_DERIVED: Final = {"adc": "ADC", "fa": "FA", "colfa": "FA", "tracew": "TRACE", "trace": "TRACE"}


@dataclass(frozen=True, slots=True)
class ReproIn:
    """What a ReproIn name says: the sequence type and the contrast entity (``ce-``) if any."""

    label: str
    contrast: Contrast | None


def parse_reproin(name: str) -> ReproIn | None:
    """Parse ``seqtype[-label][_key-value...]`` (ReproIn); None when the name is not one."""
    head = _REPROIN_HEAD.match(name)
    if head is None:
        return None
    seqtype, suffix = head.group(1), (head.group(2) or "").lower()
    parts = [part for part in name[head.end() :].split("_") if part]
    entities = [part for part in parts if _ENTITY.match(part)]
    if not suffix and (not parts or not _ENTITY.match(parts[0])):
        return None  # "dwi_b1000" is a plain name, not ReproIn
    label = _reproin_label(seqtype, suffix)
    if label is None:
        return None
    extras = {part.lower() for part in parts if not _ENTITY.match(part)}
    if label == "DWI":
        label = next((_DERIVED[x] for x in extras if x in _DERIVED), label)
    contrast: Contrast | None = None
    for entity in entities:
        if entity.lower().startswith("ce-"):
            contrast = "pre" if entity.lower() == "ce-none" else "post"
    return ReproIn(label, contrast)


def _reproin_label(seqtype: str, suffix: str) -> str | None:
    if seqtype == "anat":
        return _ANAT.get(suffix)
    if seqtype == "fmap" or not suffix or suffix in _ALLOWED[seqtype]:
        return _DEFAULT[seqtype]
    return None


# --- contrast phase ------------------------------------------------------------------------

_POST_FOSSA = re.compile(r"\bpost(?:erior)?[\s_.-]*fossa\b", re.IGNORECASE)
# Exam-level protocol names ("BRAIN W/WO") cover both phases and say nothing about a series.
_BOTH = re.compile(r"\bw\s*/?\s*wo\b|with\s+and\s+without|\bpre\s*(?:and|&|/|\+|-)\s*post\b"
                   r"|\bw\s*&\s*wo\b", re.IGNORECASE)  # fmt: skip
_PLUS = re.compile(r"\+\s*(?:c|gd|gad\w*|km|ce|contrast)\b|(?<![a-z0-9])c\s*\+|\bw/\s*(?:c|gad)",
                   re.IGNORECASE)  # fmt: skip
_WITHOUT = re.compile(r"\bw/o\b|\bw/out\b|\bs/c\b", re.IGNORECASE)
# Position 0 ("pre") outranks 1 ("post"): "non-contrast", "sin contraste", "pre gd".
_PHASE_PATTERNS: Final = (
    r"pre|pre ?contrast|pre ?gd|pre ?gad\w*|pre ?km|nativ|native|non ?contrast|non ?enhanced"
    r"|without|wo|sin|senza|ohne|sans|nc|unenhanced",
    r"post|post ?gd|post ?gad\w*|post ?contrast|gad|gado\w*|gd|km|kontrast\w*|contrast\w*|mdc"
    r"|ce|inj\w*|enhanced|iv ?con|t1ce|t1c|t1gd|multihance|gadovist|gadavist|dotarem|prohance"
    r"|magnevist|omniscan|clariscan|primovist|eovist",
)
_PHASE_INDEX: Final = RuleIndex(_PHASE_PATTERNS)
_PHASES: Final[tuple[Contrast, Contrast]] = ("pre", "post")


def text_contrast(raw: str, normalised: str) -> Contrast | None:
    """Contrast phase stated in a name: "pre" tokens first ("non-contrast", "sin contraste")."""
    lowered = raw.lower()
    if "fossa" in lowered:
        raw = _POST_FOSSA.sub(" ", raw)
        normalised = _POST_FOSSA.sub(" ", normalised)
    if ("wo" in lowered or "post" in lowered) and _BOTH.search(raw):
        return None
    if "/" in raw and _WITHOUT.search(raw):
        return "pre"
    if "+" in raw and _PLUS.search(raw):
        return "post"
    phase = _PHASE_INDEX.first(normalised)
    return None if phase is None else _PHASES[phase]
