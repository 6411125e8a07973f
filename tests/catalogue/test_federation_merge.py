"""Merging live answers never reveals a suppressed count, and queries travel unchanged."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from catalogue.search._summary import Bucket, FacetResult
from catalogue.search.query import validate_query
from catalogue.search.suppression import Count
from catalogue.services._live_cohort import cohort_input, filter_input
from catalogue.services.federation import _without, add, merge_facets

EXACT = st.builds(Count, value=st.integers(0, 1000))
HIDDEN = st.builds(
    lambda at_least: Count(value=None, suppressed=True, threshold=5, at_least=at_least),
    st.integers(0, 1000),
)


@given(st.lists(EXACT | HIDDEN, min_size=1, max_size=6))
def test_a_sum_is_exact_only_when_every_part_is(parts: list[Count]) -> None:
    total = add(parts)
    if any(p.suppressed for p in parts):
        assert total.suppressed and total.value is None
        assert total.at_least == sum(p.value or p.at_least for p in parts)
    else:
        assert total.value == sum(p.value or 0 for p in parts) and not total.suppressed


def test_facets_merge_bucket_by_bucket() -> None:
    def facet(counts: dict[str, Count]) -> FacetResult:
        buckets = [Bucket(value=v, count=c) for v, c in counts.items()]
        return FacetResult(
            field="modality", type="terms", buckets=buckets, other=None, missing=Count(value=0)
        )

    hidden = Count(value=None, suppressed=True, threshold=5, at_least=0)
    (merged,) = merge_facets(
        [[facet({"MR": Count(value=10), "CT": Count(value=7)})], [facet({"MR": hidden})]]
    )
    by_value = {b.value: b.count for b in merged.buckets}
    assert by_value["CT"] == Count(value=7)
    assert by_value["MR"].suppressed and by_value["MR"].at_least == 10


def test_the_index_part_leaves_out_the_sites_answered_live() -> None:
    q = validate_query({"filter": {"op": "term", "field": "sex", "value": "female"}})
    without = _without(q, ["site-b"]).model_dump(mode="json", exclude_none=True)["filter"]
    assert without["op"] == "and"
    assert without["all"][1] == {
        "op": "not",
        "filter": {"op": "terms", "field": "site", "values": ["site-b"]},
    }


def test_every_filter_and_facet_has_a_graphql_form() -> None:
    document: dict[str, Any] = {
        "text": "brain",
        "filter": {
            "op": "and",
            "all": [
                {"op": "concept", "field": "diagnosis", "iri": "http://x/G35"},
                {"op": "or", "any": [{"op": "exists", "field": "birth_year"}]},
                {"op": "not", "filter": {"op": "terms", "field": "sex", "values": ["male"]}},
                {"op": "has_study", "where": {"op": "range", "field": "study_year", "gte": 2000}},
                {"op": "has_series", "where": {"op": "text", "text": "flair"}},
            ],
        },
        "facets": [
            {"type": "terms", "field": "modality", "size": 5},
            {"type": "histogram", "field": "birth_year", "interval": 10, "min": 1900, "max": 2020},
        ],
    }
    q = validate_query(document).model_dump(mode="json", exclude_none=True)
    sent = cohort_input(q)
    assert sent["text"] == "brain"
    clauses = sent["filter"]["and"]
    assert clauses[0] == {
        "concept": {"field": "diagnosis", "iri": "http://x/G35", "includeDescendants": True}
    }
    assert clauses[2] == {"not": {"terms": {"field": "sex", "values": ["male"]}}}
    assert clauses[3] == {"hasStudy": {"range": {"field": "study_year", "gte": 2000}}}
    assert sent["facets"][1] == {
        "histogram": {"field": "birth_year", "interval": 10, "min": 1900, "max": 2020}
    }
    assert filter_input({"op": "term", "field": "sex", "value": "female"}) == {
        "term": {"field": "sex", "value": "female"}
    }
