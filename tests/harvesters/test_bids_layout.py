"""Property tests for the BIDS name parser and the age reduction."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harvesters.bids._layout import ENTITY_ORDER, Name, NamingError, parse_name
from harvesters.bids._tables import AGE_CAP, age

INDEX = {"run", "echo", "flip", "inv", "split", "chunk"}
LABEL = st.from_regex(r"[a-zA-Z0-9]{1,10}", fullmatch=True)
NUMBER = st.from_regex(r"[0-9]{1,3}", fullmatch=True)
SUFFIX = st.from_regex(r"[a-zA-Z0-9]{1,12}", fullmatch=True)
EXTENSION = st.sampled_from([".nii", ".nii.gz", ".json"])
REASONS = {
    "the name does not end in a suffix after its entities",
    "an entity is not one the specification defines",
    "entities are repeated or out of the specification's order",
    *(f"the {key} entity's value is not a valid label or index" for key in ENTITY_ORDER),
}


@st.composite
def names(draw: st.DrawFn) -> tuple[list[tuple[str, str]], str, str]:
    keys = draw(st.lists(st.sampled_from(ENTITY_ORDER[1:]), unique=True, max_size=6))
    keys = ["sub", *sorted(keys, key=ENTITY_ORDER.index)]
    entities = [(k, draw(NUMBER if k in INDEX else LABEL)) for k in keys]
    return entities, draw(SUFFIX), draw(EXTENSION)


def _join(entities: list[tuple[str, str]], suffix: str, extension: str) -> str:
    return "_".join([*(f"{k}-{v}" for k, v in entities), suffix]) + extension


@given(names())
def test_names_built_by_the_rules_parse_back(name: tuple[list[tuple[str, str]], str, str]) -> None:
    entities, suffix, extension = name
    parsed = parse_name(_join(entities, suffix, extension))
    assert parsed == Name(tuple(entities), suffix, extension, dict(entities))


@given(names())
def test_entities_out_of_order_are_refused(name: tuple[list[tuple[str, str]], str, str]) -> None:
    entities, suffix, extension = name
    if len(entities) < 2:
        return
    swapped = [entities[1], entities[0], *entities[2:]]
    with pytest.raises(NamingError):
        parse_name(_join(swapped, suffix, extension))


@given(st.text(max_size=80))
def test_any_file_name_parses_or_is_refused_with_a_naming_error(filename: str) -> None:
    outcome = _parse_or_reason(filename)
    if isinstance(outcome, str):
        assert outcome in REASONS  # a reason names the rule, never quotes the name
    else:
        assert outcome.entities and outcome.suffix


def _parse_or_reason(filename: str) -> Name | str:
    try:
        return parse_name(filename)
    except NamingError as exc:
        return str(exc)


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10, 10_000))
def test_ages_are_reduced_or_refused(value: float) -> None:
    try:
        years = age(str(value), 1.0)
    except ValueError:
        return
    assert years is None or 0 <= years <= AGE_CAP
    if years is not None and float(value) >= AGE_CAP:
        assert years == AGE_CAP


@pytest.mark.parametrize(
    ("value", "expected"),
    [("34", 34.0), ("89", 89.0), ("89+", 90.0), ("90", 90.0), ("95.5", 90.0), ("n/a", None),
     ("", None), ("999", None), ("0.5", 0.5)],
)  # fmt: skip
def test_ages(value: str, expected: float | None) -> None:
    assert age(value, 1.0) == expected
