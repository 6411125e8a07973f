"""Hypothesis strategies for valid filters over the generated catalogue's vocabulary."""

from __future__ import annotations

import functools
from typing import Any

from hypothesis import strategies as st

from bench.catalogue_generator import BODY_PARTS, DIAGNOSES, MANUFACTURERS, ONTOLOGY, SEQUENCES
from catalogue.search.fields import (
    CONCEPT_FIELDS,
    FIELDS,
    NESTED_FIELDS,
    ROOT_FIELDS,
    FieldType,
    Level,
)

VALUES: dict[str, list[Any]] = {
    "sex": ["female", "male", "other", "unknown"],
    "group": ["patient", "control"],
    "strain": ["C57BL/6J", "BALB/c"],
    "site": ["site-00", "site-01", "site-02"],
    "visibility": ["public", "aggregate", "private"],
    "manufacturer": list(MANUFACTURERS),
    "model_name": [m for models in MANUFACTURERS.values() for m in models],
    "modality": ["MR", "CT", "PT", "SEG"],
    "body_part": list(BODY_PARTS),
    "sequence_type": list(SEQUENCES),
    "diagnosis": list(DIAGNOSES),
    "species": ["Homo sapiens", "Mus musculus"],
    "image_type": ["ORIGINAL", "PRIMARY", "DERIVED"],
}
NUMBERS: dict[str, tuple[float, float]] = {
    "birth_year": (1930, 2010),
    "study_count": (0, 12),
    "series_count": (0, 40),
    "study_year": (2004, 2025),
    "age_years": (0, 95),
    "field_strength_t": (1, 7.5),
    "slice_thickness_mm": (0.5, 5),
    "repetition_time_ms": (0, 9000),
    "echo_time_ms": (0, 120),
    "flip_angle_deg": (5, 160),
    "instance_count": (0, 400),
    "year": (2004, 2025),
    "inversion_time_ms": (0, 3000),
}
WORDS = ["brain", "flair", "t1", "post", "mri", "siemens", "knee", "cohort", "nothing"]


def _levels(kind: str, nested: Level | None) -> frozenset[Level]:
    return NESTED_FIELDS[nested] if nested else ROOT_FIELDS[kind]  # type: ignore[index]


def _keyword(name: str) -> st.SearchStrategy[dict[str, Any]]:
    values = st.sampled_from(VALUES[name])
    term = st.builds(lambda v: {"op": "term", "field": name, "value": v}, values)
    terms = st.builds(
        lambda vs: {"op": "terms", "field": name, "values": vs},
        st.lists(values, min_size=1, max_size=3),
    )
    return term | terms


def _leaves(kind: str, nested: Level | None) -> st.SearchStrategy[dict[str, Any]]:
    levels = _levels(kind, nested)
    names = [
        f.name
        for f in FIELDS.values()
        if f.level in levels and not f.name.endswith(("_concept", "_closure"))
    ]
    options: list[st.SearchStrategy[dict[str, Any]]] = [
        st.builds(lambda w: {"op": "text", "text": w}, st.sampled_from(WORDS)),
        st.builds(lambda f: {"op": "exists", "field": f}, st.sampled_from(names)),
    ]
    options += [_keyword(n) for n in names if n in VALUES]
    options += [_range(n) for n in names if n in NUMBERS]
    options += [
        st.builds(lambda f=n, v=False: {"op": "term", "field": f, "value": v}, v=st.booleans())
        for n in names
        if FIELDS[n].type is FieldType.BOOLEAN
    ]
    coded = [n for n, level in CONCEPT_FIELDS.items() if level in levels]
    if coded:
        iris = st.sampled_from(sorted(ONTOLOGY))
        options.append(
            st.builds(
                lambda f, i, d: {"op": "concept", "field": f, "iri": i, "descendants": d},
                st.sampled_from(coded), iris, st.booleans(),
            )
        )  # fmt: skip
    return st.one_of(options)


def _range(name: str) -> st.SearchStrategy[dict[str, Any]]:
    low, high = NUMBERS[name]
    bound = st.floats(low, high, allow_nan=False).map(lambda x: round(x, 1))
    if FIELDS[name].type is FieldType.INTEGER:
        bound = st.integers(int(low), int(high)).map(float)
    return st.builds(
        lambda a, b, lower, upper: {
            "op": "range",
            "field": name,
            lower: min(a, b),
            upper: max(a, b),
        },
        bound,
        bound,
        st.sampled_from(["gte", "gt"]),
        st.sampled_from(["lte", "lt"]),
    )


@functools.cache
def filters(
    kind: str, nested: Level | None = None, depth: int = 3
) -> st.SearchStrategy[dict[str, Any]]:
    leaves = _leaves(kind, nested)
    if depth == 0:
        return leaves
    inner = filters(kind, nested, depth - 1)
    options = [
        leaves,
        st.builds(lambda xs: {"op": "and", "all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"op": "or", "any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"op": "not", "filter": x}, inner),
    ]
    if kind in {"subjects", "studies"} and nested is not Level.SERIES:
        options.append(
            st.builds(
                lambda x: {"op": "has_series", "where": x}, filters(kind, Level.SERIES, depth - 1)
            )
        )
    if kind == "subjects" and nested is None:
        options.append(
            st.builds(
                lambda x: {"op": "has_study", "where": x}, filters(kind, Level.STUDY, depth - 1)
            )
        )
    return st.one_of(options)
