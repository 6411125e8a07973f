"""Series classifier: the evaluation-set gate, safety cases, contrast, ReproIn, properties."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ontology._classify_eval import UNKNOWN, EvalRow, load_eval_rows
from ontology._classify_index import RuleIndex
from ontology._classify_text import _TEXT_RULES, normalise, parse_reproin
from ontology.classify import SEQUENCE_TYPES, THRESHOLD, Classification, classify_series

ROWS = load_eval_rows()


def _accuracy(rows: list[EvalRow]) -> float:
    return sum(
        (row.classify().sequence_type or UNKNOWN) == row.expected_type for row in rows
    ) / len(rows)


# --- the evaluation set --------------------------------------------------------------------


def test_eval_set_is_large_varied_and_split() -> None:
    assert len(ROWS) >= 500
    assert {row.expected_type for row in ROWS} == SEQUENCE_TYPES | {UNKNOWN}
    vendors = Counter(row.vendor_style for row in ROWS)
    assert {"siemens", "ge", "philips", "reproin"} <= set(vendors)
    held_out = sum(row.held_out for row in ROWS) / len(ROWS)
    assert 0.35 <= held_out <= 0.5
    assert all(row.expected_contrast in (None, "pre", "post") for row in ROWS)


def test_eval_accuracy_meets_the_target() -> None:
    """The issue's quality gate: >= 95 % with "unknown" on a labelled row counted as wrong."""
    assert _accuracy(ROWS) >= 0.95
    assert _accuracy([row for row in ROWS if row.held_out]) >= 0.95


def test_wrong_classes_are_rarer_than_unknowns_allow() -> None:
    """A wrong class misleads a search; at most 1 % of labelled rows may get one."""
    labelled = [row for row in ROWS if row.expected_type != UNKNOWN]
    wrong = [
        row for row in labelled if row.classify().sequence_type not in (None, row.expected_type)
    ]
    assert len(wrong) / len(labelled) <= 0.01, [(r.line, r.description) for r in wrong]


def test_contrast_phase_accuracy() -> None:
    hits = sum(row.classify().contrast == row.expected_contrast for row in ROWS)
    assert hits / len(ROWS) >= 0.97


# --- safety cases: never the wrong one of two neighbours ------------------------------------

SAFETY = [
    # FLAIR vs T2w vs T1w
    ("t2_tirm_tra_dark-fluid", (), "*tir2d1_21", 9000, 81, 2500, 150, "FLAIR"),
    ("AX T2 FLAIR", (), "", 9000, 130, 2250, 90, "FLAIR"),
    ("Sag T1 FLAIR", (), "", 2250, 7.9, 780, 90, "T1w"),
    ("T1_FLAIR_SAG", (), "", None, None, None, None, "T1w"),
    ("t1_tirm_tra", (), "*tir2d1_7", 2000, 9, 860, 150, "T1w"),
    ("t2_tse_tra_p2", (), "*tse2d1_15", 6000, 100, None, 150, "T2w"),
    ("t2_tirm_cor_stir", (), "*tir2d1_9", 4000, 50, 220, 150, "T2w"),
    ("t2_tirm_sag", (), "*tir2d1_9", 3500, 44, 160, 150, "T2w"),
    ("T2W_FLAIR", (), "FLAIR", 11000, 120, 2800, 90, "FLAIR"),
    ("t2_spc_da-fl_sag_p2_iso", (), "*spcir_278ns", 5000, 387, 1800, 120, "FLAIR"),
    # DWI vs its derived maps
    ("ep2d_diff_mddw_20_p2", ("ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"), "", None, None,
     None, None, "DWI"),
    ("ep2d_diff_mddw_20_p2_ADC", ("DERIVED", "PRIMARY", "DIFFUSION", "ADC"), "", None, None,
     None, None, "ADC"),
    ("DWI_SENSE", ("DERIVED", "PRIMARY", "ADC", "ADC"), "DwiSE", None, None, None, None, "ADC"),
    ("ep2d_diff_mddw_20_p2_TRACEW", (), "*ep_b1000t", None, None, None, None, "TRACE"),
    ("ep2d_diff_mddw_20_p2_FA", (), "", None, None, None, None, "FA"),
    ("Apparent Diffusion Coefficient (mm2/s)", (), "", None, None, None, None, "ADC"),
    ("Ax DWI 1000b", (), "epi", 6000, 84, None, 90, "DWI"),
    # EPI parameters never read as a weighting
    ("Canon DWI b1000", (), "", 5000, 85, None, 90, "DWI"),
    ("fMRI BOLD rest", ("ORIGINAL", "PRIMARY", "EPI"), "epi", 2500, 30, None, 90, "BOLD"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("description", "image_type", "sequence", "tr", "te", "ti", "flip", "expected"), SAFETY
)
def test_safety_cases(
    description: str,
    image_type: tuple[str, ...],
    sequence: str,
    tr: float | None,
    te: float | None,
    ti: float | None,
    flip: float | None,
    expected: str,
) -> None:
    result = classify_series(description, None, image_type, sequence, tr, te, ti, flip)
    assert result.sequence_type == expected, result.reason
    assert result.confidence >= THRESHOLD


@pytest.mark.parametrize(
    "description",
    ["Exponential Apparent Diffusion Coefficient", "eADC", "ep2d", "MPR", "Series 3",
     "PhoenixZIPReport", "svs_se_30", "ep2d_perf", "cine_trufi_4ch", "Ax PD/T2 FSE", "tse",
     "t2_tirm_sag", "gre_T2star_map", "t1_mp2rage_sag_p3_iso_INV1"],
)  # fmt: skip
def test_unsure_or_not_a_type_gives_none(description: str) -> None:
    """No TI for "t2_tirm_sag": dark-fluid or STIR cannot be told, so unknown, not a guess."""
    assert classify_series(description).sequence_type is None


def test_tr_te_alone_decide_only_textbook_cases() -> None:
    assert classify_series("Series 4", None, (), None, 6000, 105, None, 150).sequence_type == "T2w"
    assert classify_series("", None, (), None, 520, 11, None, 90).sequence_type == "T1w"
    assert classify_series("", None, (), None, 2300, 3, 900, 9).sequence_type == "T1w"
    assert classify_series("", None, (), None, 9000, 85, 2500, 150).sequence_type == "FLAIR"
    assert classify_series("", None, (), None, 2800, 12, None, 150).sequence_type == "PDw"
    assert classify_series("", None, (), None, 700, 20, None, 20).sequence_type == "T2starw"
    # TOF or 3D T1 gradient echo; BOLD-like EPI; a mosaic: none of them says
    assert classify_series("", None, (), None, 25, 3.6, None, 25).sequence_type is None
    assert classify_series("", None, (), "*epfid2d1_64", 3000, 30, None, 90).sequence_type is None
    assert classify_series("", None, ("MOSAIC",), None, 3000, 30, None, 90).sequence_type is None


def test_below_threshold_is_unknown_with_the_candidate_in_the_reason() -> None:
    result = classify_series("Ax 3D CUBE")
    assert result == Classification(None, None, 0.0, result.reason)
    assert result.reason.startswith("below threshold: T2w")


def test_other_modalities() -> None:
    assert classify_series("Head 5mm", modality="CT").sequence_type is None
    assert classify_series("Topogram 0.6 T20s", modality="CT").sequence_type == "localizer"
    assert classify_series("X", None, ("ORIGINAL", "LOCALIZER"), modality="CT").sequence_type
    assert classify_series("T1 SE", modality=None).sequence_type == "T1w"


@pytest.mark.parametrize(
    ("description", "expected"),
    [("sWIP T1W_3D_TFE", "T1w"), ("SWIp", "SWI"), ("AAHead_Scout_64ch-head-coil", "localizer"),
     ("SmartBrain", "localizer"), ("3-plane loc", "localizer"), ("dADC", "ADC"),
     ("ColFA", "FA"), ("MoCoSeries", "BOLD"), ("AX T2FLAIR", "FLAIR"), ("3DT1weighted", "T1w"),
     ("SAGT1", "T1w"), ("Difusión", "DWI"), ("Ax T2* GRE", "T2starw"), ("T2*W_FFE", "T2starw"),
     ("Ax DWI 1000b", "DWI"), ("ep2d_diff_b1000", "DWI"), ("FLAIR_LongTR", "FLAIR"),
     ("T2W/PD_TSE", None), ("Ax T2 FSE restore", "T2w")],
)  # fmt: skip
def test_tokenisation(description: str, expected: str | None) -> None:
    """Case, separators, camelCase, glued words, accents, "T2*", Philips' "sWIP" prefix."""
    assert classify_series(description).sequence_type == expected


# --- contrast phase ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "phase"),
    [("SAG 3D T1 BRAVO +C", "post"), ("Cor T1 SE C+", "post"), ("t1_mprage_tra_KM", "post"),
     ("T1W_3D_TFE_GD", "post"), ("t1_se_post_gd", "post"), ("T1 post contrast", "post"),
     ("T1 w/ contrast", "post"), ("t1_se_cor_nach_KM", "post"), ("T1 con contrasto", "post"),
     ("T1 Gadovist", "post"), ("T1 injecté", "post"), ("t1ce", "post"), ("CE-MRA", "post"),
     ("T1 pre gd", "pre"), ("T1 tra nativ", "pre"), ("T1 sin contraste", "pre"),
     ("t1_se_tra_ohne_KM", "pre"), ("T1 w/o", "pre"), ("3D ASL (non-contrast)", "pre"),
     ("T1 without contrast", "pre"), ("Ax T2 post fossa", None), ("t1_mprage_sag", None),
     ("SV_PRESS_35", None)],
)  # fmt: skip
def test_contrast_from_names(description: str, phase: str | None) -> None:
    assert classify_series(description).contrast == phase


def test_contrast_from_the_protocol_the_agent_flag_and_the_rule() -> None:
    assert classify_series("MPR Tra", "t1_mprage_sag_KM").contrast == "post"
    assert classify_series("Ax T2 FSE", "BRAIN W/WO").contrast is None  # exam-level name
    assert classify_series("t1_se_tra", contrast_agent=True).contrast == "post"
    assert classify_series("t1_se_tra", contrast_agent=False).contrast is None
    assert classify_series("T1 pre", contrast_agent=True).contrast == "pre"
    assert classify_series("ep2d_perf").contrast == "post"  # DSC perfusion is a bolus


# --- ReproIn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "phase"),
    [("anat-T1w_acq-mprage", "T1w", None), ("anat-T2w", "T2w", None),
     ("anat-FLAIR_ce-gadolinium", "FLAIR", "post"), ("anat-scout_MPR_sag", "localizer", None),
     ("func-bold_task-rest_run-01", "BOLD", None), ("func_task-rest_run-01", "BOLD", None),
     ("fmap-epi_dir-AP", "fieldmap", None), ("fmap-epi_acq-dwi_dir-PA", "fieldmap", None),
     ("fmap_acq-4mm", "fieldmap", None), ("dwi_dir-PA", "DWI", None),
     ("dwi_dir-AP_ADC", "ADC", None), ("dwi_dir-AP_ColFA", "FA", None),
     ("perf-asl", "ASL", None), ("anat-angio_acq-tof", "MRA", None),
     ("anat-T1w_acq-mprage__dup-01", "T1w", None), ("anat-T1w_ce-none", "T1w", "pre")],
)  # fmt: skip
def test_reproin_names(name: str, expected: str, phase: str | None) -> None:
    parsed = parse_reproin(name)
    assert parsed is not None and parsed.label == expected and parsed.contrast == phase
    result = classify_series("whatever the scanner says", name)
    assert (result.sequence_type, result.reason) == (expected, "reproin")


@pytest.mark.parametrize("name", ["dwi_b1000", "DWI_SENSE", "anat-foo", "func-cbv", "t1_anat-x"])
def test_not_reproin(name: str) -> None:
    assert parse_reproin(name) is None


# --- properties ----------------------------------------------------------------------------

_finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
_numbers = st.none() | _finite | st.sampled_from([math.nan, math.inf, -math.inf, 0.0])


@settings(max_examples=300, deadline=None)
@given(
    description=st.none() | st.text(max_size=80),
    protocol=st.none() | st.text(max_size=80),
    image_type=st.lists(st.text(max_size=12), max_size=6),
    sequence=st.none() | st.text(max_size=20),
    numbers=st.tuples(_numbers, _numbers, _numbers, _numbers),
    modality=st.none() | st.sampled_from(["MR", "CT", "PT", ""]),
    agent=st.none() | st.booleans(),
)
def test_any_input_gives_a_valid_deterministic_answer(
    description: str | None,
    protocol: str | None,
    image_type: list[str],
    sequence: str | None,
    numbers: tuple[float | None, float | None, float | None, float | None],
    modality: str | None,
    agent: bool | None,
) -> None:
    args = (description, protocol, image_type, sequence, *numbers, modality, agent)
    result = classify_series(*args)
    assert result.sequence_type is None or result.sequence_type in SEQUENCE_TYPES
    assert result.contrast in (None, "pre", "post")
    assert 0.0 <= result.confidence <= 1.0
    assert result.sequence_type is None or result.confidence >= THRESHOLD
    assert classify_series(*args) == result


_INDEX = RuleIndex([spec[3] for spec in _TEXT_RULES])
_WORDS = sorted(
    {word for spec in _TEXT_RULES for word in re.findall(r"[a-z0-9]+", spec[3])} | {"x", "q9"}
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_WORDS) | st.text("abt12 *_-", max_size=6), max_size=8))
def test_index_finds_the_same_rule_as_searching_rule_by_rule(words: list[str]) -> None:
    """The fast index is an optimisation only: the first matching regex decides."""
    text = normalise(" ".join(words))
    reference = next(
        (
            position
            for position, spec in enumerate(_TEXT_RULES)
            if re.search(rf"\b(?:{spec[3]})\b", text)
        ),
        None,
    )
    assert _INDEX.first(text) == reference


def test_index_refuses_one_character_words() -> None:
    with pytest.raises(ValueError, match="one-character"):
        RuleIndex(["a|bc"])
