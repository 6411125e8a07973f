"""The contract every search backend must pass: each query case gives the ground truth's hits,
totals, order, per-collection counts and facets (`tests/search/truth.py`).

`check_search(backend, truth, query, scope)` walks every page through cursors and compares;
`check_aggregates(...)` compares per-collection counts, sums and facets. `CASES` covers every
operator, every kind, per-subject and per-study series predicates, concept expansion, sorting with
missing values, and facets on fields at, above and below the document.
"""

from __future__ import annotations

from typing import Any

from catalogue.search.backend import AggregateRequest, Scope, SearchBackend, SearchRequest
from catalogue.search.query import SCORE, SearchQuery, validate_query
from tests.search import truth as reference

SEQ = "https://w3id.org/imaging-catalogue/sequence/"
SCT = "http://snomed.info/id/"
ICD = "http://purl.bioontology.org/ontology/ICD10/"
T2W, T1W, FLAIR = SEQ + "T2w", SEQ + "T1w", SEQ + "FLAIR"
HEAD, BRAIN = SCT + "69536005", SCT + "12738006"


def term(field: str, value: Any) -> dict[str, Any]:
    return {"op": "term", "field": field, "value": value}


def concept(field: str, iri: str, descendants: bool = True) -> dict[str, Any]:
    return {"op": "concept", "field": field, "iri": iri, "descendants": descendants}


def rng(field: str, **bounds: Any) -> dict[str, Any]:
    return {"op": "range", "field": field, **bounds}


def all_(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"op": "and", "all": list(filters)}


def any_(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"op": "or", "any": list(filters)}


def not_(f: dict[str, Any]) -> dict[str, Any]:
    return {"op": "not", "filter": f}


def series(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"op": "has_series", "where": all_(*filters) if len(filters) > 1 else filters[0]}


def study(*filters: dict[str, Any]) -> dict[str, Any]:
    return {"op": "has_study", "where": all_(*filters) if len(filters) > 1 else filters[0]}


# The cohort of the issue: a 3 T FLAIR and a post-contrast T1, MS, aged 20-50 at a study.
MS_COHORT = all_(
    series(concept("sequence_type", FLAIR), rng("field_strength_t", gte=2.9, lte=3.1)),
    series(concept("sequence_type", T1W), term("contrast_agent", True)),
    concept("diagnosis", ICD + "G35"),
    study(rng("age_years", gte=20, lte=50)),
)

CASES: dict[str, dict[str, Any]] = {
    "everything": {},
    "text one word": {"text": "flair"},
    "text all words": {"text": "POST t1_mprage brain"},
    "text with engine syntax": {"text": 'flair AND (t1* OR "x") NOT -ct ~2 ^3 :) {}[]'},
    "term keyword": {"filter": term("sex", "female")},
    "term integer": {"filter": term("birth_year", 1970)},
    "terms": {"filter": {"op": "terms", "field": "group", "values": ["control", "none"]}},
    "range open": {"filter": rng("birth_year", gt=1990)},
    "range date": {"filter": rng("first_seen", gte="2023-01-01", lt="2023-07-01T12:00:00Z")},
    "exists and missing": {
        "filter": all_(
            {"op": "exists", "field": "group"}, not_({"op": "exists", "field": "birth_year"})
        )
    },
    "not keeps missing values": {"filter": not_(term("sex", "male"))},
    "concept with descendants": {"filter": concept("diagnosis", ICD + "G30")},
    "concept exact only": {"filter": concept("diagnosis", ICD + "G30", descendants=False)},
    "concept of an ancestor chapter": {"filter": concept("diagnosis", ICD + "VI")},
    "two series per subject": {
        "filter": all_(series(concept("sequence_type", FLAIR)), series(term("modality", "CT")))
    },
    "one series with both": {
        "filter": series(concept("sequence_type", T2W), rng("field_strength_t", gte=3))
    },
    "per study": {"filter": study(series(term("modality", "MR")), series(term("modality", "CT")))},
    "per study with study fields": {
        "filter": study(rng("study_year", gte=2015), series(concept("body_part", HEAD)))
    },
    "not has series": {"filter": not_(series(term("modality", "MR")))},
    "series not inside": {"filter": series(not_({"op": "exists", "field": "body_part"}))},
    "issue cohort": {"filter": MS_COHORT},
    "or of nested": {
        "filter": any_(
            series(term("annotations", True)),
            all_(term("sex", "other"), study(rng("age_years", lt=30))),
        )
    },
    "text inside series": {
        "filter": series({"op": "text", "text": "swi"}, term("manufacturer", "SIEMENS"))
    },
    "sort by birth year desc": {
        "filter": term("sex", "female"),
        "sort": [{"field": "birth_year", "order": "desc"}],
    },
    "sort two keys": {"sort": [{"field": "group"}, {"field": "birth_year", "order": "asc"}]},
    "sort by relevance": {"text": "brain", "sort": [{"field": SCORE, "order": "desc"}]},
    "studies by year": {
        "kind": "studies",
        "filter": series(concept("body_part", BRAIN)),
        "sort": [{"field": "study_year", "order": "desc"}, {"field": "age_years"}],
    },
    "studies by subject field": {
        "kind": "studies",
        "filter": all_(term("sex", "female"), rng("age_years", gte=60)),
    },
    "series by concept": {
        "kind": "series",
        "filter": concept("modality", "https://w3id.org/imaging-catalogue/modality/acquired"),
    },
    "series with subject fields": {
        "kind": "series",
        "filter": all_(concept("diagnosis", ICD + "G35"), term("field_strength_t", 3.0)),
        "sort": [{"field": "echo_time_ms", "order": "desc"}],
    },
    "series multi-valued": {
        "kind": "series",
        "filter": {"op": "terms", "field": "image_type", "values": ["DERIVED"]},
    },
    "series text": {"kind": "series", "text": "flair brain"},
    "collections text": {"kind": "collections", "text": "cohort"},
    "collections by visibility": {
        "kind": "collections",
        "filter": term("visibility", "aggregate"),
        "sort": [{"field": "site"}],
    },
    "datasets": {"kind": "datasets", "text": "glioma"},
    "nothing matches": {"filter": term("sex", "no-such-value")},
}

FACETS: dict[str, list[dict[str, Any]]] = {
    "subjects": [
        {"field": "sex"},
        {"field": "modality", "size": 3},
        {"field": "diagnosis_closure"},
        {"field": "age_years", "interval": 10, "min": 0, "max": 100},
        {"field": "field_strength_t", "interval": 0.5, "min": 0.5, "max": 7.5},
        {"field": "birth_year", "interval": 7, "min": 1930, "max": 2010},
        {"field": "contrast_agent"},
        {"field": "slice_thickness_mm"},  # numbers a subject keeps as a set in the embedded index
        {"field": "year", "interval": 2, "min": 2000, "max": 2030},
        {"field": "study_year"},  # below the subject, neither rolled up nor a histogram
    ],
    "studies": [{"field": "study_year"}, {"field": "manufacturer"}, {"field": "sex"}],
    "series": [
        {"field": "manufacturer"},
        {"field": "echo_time_ms", "interval": 0.1, "min": 2, "max": 12},
    ],
    "collections": [{"field": "visibility"}],
    "datasets": [{"field": "state"}],
}


def query(case: str, size: int = 17) -> SearchQuery:
    return validate_query({"size": size, **CASES[case]})


def walk(backend: SearchBackend, q: SearchQuery, scope: Scope) -> tuple[int, list[str]]:
    """Every hit, page after page: the total reported and the ids in order."""
    ids: list[str] = []
    after = None
    totals = set()
    for _ in range(10_000):
        request = SearchRequest(
            q.kind, q.text, q.filter, scope, tuple(q.effective_sort()), q.size, after
        )
        page = backend.search(request)
        totals.add(page.total)
        ids += [h.id for h in page.hits]
        assert len(page.hits) <= q.size
        after = page.after
        if after is None:
            break
    assert len(totals) == 1, "the total must not change between pages"
    return totals.pop(), ids


def check_search(
    backend: SearchBackend, truth: reference.Truth, q: SearchQuery, scope: Scope
) -> None:
    allowed = None if scope.collections is None else set(scope.collections)
    expected = reference.select(truth, q, allowed)
    total, ids = walk(backend, q, scope)
    assert total == len(expected)
    assert len(ids) == len(set(ids)), "a hit was repeated across pages"
    assert set(ids) == {n["id"] for n in expected}
    if not any(s.field == SCORE for s in q.effective_sort()):
        assert ids == reference.ordered_ids(expected, q)
    count = backend.count(q.kind, q.filter, q.text, scope)
    assert count == len(expected)


def check_aggregates(
    backend: SearchBackend, truth: reference.Truth, q: SearchQuery, scope: Scope
) -> None:
    facets = [validate_query({"kind": q.kind, "facets": [f]}).facets[0] for f in FACETS[q.kind]]
    q = q.model_copy(update={"facets": facets})
    grouped = q.kind not in {"datasets"}
    sums = ("study_count", "series_count") if q.kind == "subjects" else ()
    request = AggregateRequest(q.kind, q.text, q.filter, scope, tuple(facets), grouped, sums)
    allowed = None if scope.collections is None else set(scope.collections)
    expected = reference.aggregate(truth, q, grouped, sums, allowed)
    got = backend.aggregate(request)
    assert got.groups.keys() == expected.groups.keys()
    for key, group in expected.groups.items():
        assert got.groups[key].docs == group.docs
        assert got.groups[key].sums == group.sums
        for name, counts in group.facets.items():
            assert got.groups[key].facets[name] == counts, (key, name)
