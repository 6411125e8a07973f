"""Asking another node for a cohort's counts over its GraphQL API, as this node's query model
describes it. The site answers with its own suppression applied; nothing here undoes it."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import BaseModel, SecretStr
from pydantic import ValidationError as PydanticValidationError

from catalogue.search._summary import FacetResult, SiteCounts
from catalogue.search.suppression import Count

# Per-site totals only (a live site's collections stay its own business), facets when asked:
# the site's query-cost limit must never refuse what a hub sends.
COHORT = """
query LiveCohort($query: CohortInput!) {
  cohort(query: $query) {
    subjects { ...C } studies { ...C } series { ...C }
    sites { slug name subjects { ...C } studies { ...C } series { ...C } }
    %s
  }
}
fragment C on Count { value suppressed threshold atLeast }
"""
FACETS = """
facets { field type buckets { value low high count { ...C } } other { ...C } missing { ...C } }
"""


class LiveSite(BaseModel):
    """A site whose counts are asked live (its records are not harvested here)."""

    source: str  # the `peer` source naming it
    site: str  # its slug
    url: str  # its GraphQL endpoint
    api_key: SecretStr | None = None
    timeout_s: float = 10.0


class LiveAnswer(BaseModel):
    subjects: Count
    studies: Count
    series: Count
    sites: list[SiteCounts]
    facets: list[FacetResult]


class LiveError(Exception):
    """Why a site gave no answer: said plainly, never with the site's response body."""


def ask(site: LiveSite, query: dict[str, Any], client: httpx.Client) -> LiveAnswer:
    headers = {"Accept": "application/json"}
    if site.api_key is not None:
        headers["Authorization"] = f"Bearer {site.api_key.get_secret_value()}"
    document = COHORT % (FACETS if query.get("facets") else "")
    body = {"query": document, "variables": {"query": cohort_input(query)}}
    try:
        reply = client.post(site.url, json=body, headers=headers, timeout=site.timeout_s)
    except httpx.TimeoutException:
        raise LiveError(f"no answer within {site.timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise LiveError(f"unreachable ({type(exc).__name__})") from None
    if reply.status_code != 200:
        raise LiveError(f"answered HTTP {reply.status_code}")
    try:
        answer = reply.json()
        if answer.get("errors"):
            code = (answer["errors"][0].get("extensions") or {}).get("code", "ERROR")
            raise LiveError(f"refused the query ({code})")
        return _answer(answer["data"]["cohort"])
    except (ValueError, KeyError, TypeError, AttributeError, PydanticValidationError):
        raise LiveError("gave an answer that is not a cohort") from None


def _answer(data: dict[str, Any]) -> LiveAnswer:
    sites = [
        SiteCounts(
            slug=s["slug"],
            name=s["name"],
            **_counts(s),
            collections=[],
        )
        for s in data["sites"]
    ]
    facets = [_facet(f) for f in data.get("facets") or []]
    return LiveAnswer(**_counts(data), sites=sites, facets=facets)


def _counts(data: dict[str, Any]) -> dict[str, Count]:
    return {k: _count(data[k]) for k in ("subjects", "studies", "series")}


def _count(c: dict[str, Any]) -> Count:
    return Count(
        value=c["value"],
        suppressed=c["suppressed"],
        threshold=c.get("threshold"),
        at_least=c.get("atLeast") or 0,
    )


def _facet(f: dict[str, Any]) -> FacetResult:
    return FacetResult.model_validate(
        {
            "field": f["field"],
            "type": f["type"],
            "buckets": [{**b, "count": _count(b["count"])} for b in f["buckets"]],
            "other": _count(f["other"]) if f.get("other") else None,
            "missing": _count(f["missing"]),
        }
    )


# -- this node's query document → the GraphQL CohortInput -------------------------------------
def cohort_input(query: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if query.get("text"):
        out["text"] = query["text"]
    if query.get("filter"):
        out["filter"] = filter_input(query["filter"])
    if query.get("facets"):
        out["facets"] = [_facet_input(f) for f in query["facets"]]
    return out


def filter_input(node: dict[str, Any]) -> dict[str, Any]:
    """Concept filters travel as IRIs: the site expands them with its own closure."""
    op = node["op"]
    if op in ("term", "terms", "exists"):
        return {op: {k: v for k, v in node.items() if k != "op"}}
    if op == "range":
        return {"range": {k: v for k, v in node.items() if k != "op" and v is not None}}
    if op == "concept":
        return {
            "concept": {
                "field": node["field"],
                "iri": node["iri"],
                "includeDescendants": node.get("descendants", True),
            }
        }
    if op == "text":
        return {"text": node["text"]}
    if op == "and":
        return {"and": [filter_input(n) for n in node["all"]]}
    if op == "or":
        return {"or": [filter_input(n) for n in node["any"]]}
    if op == "not":
        return {"not": filter_input(node["filter"])}
    if op in ("has_study", "has_series"):
        name = "hasStudy" if op == "has_study" else "hasSeries"
        return {name: filter_input(node["where"])}
    raise ValueError(f"no GraphQL form for filter {op!r}")


def _facet_input(facet: dict[str, Any]) -> dict[str, Any]:
    if facet["type"] == "terms":
        return {"terms": {"field": facet["field"], "size": facet.get("size", 10)}}
    keys = ("field", "interval", "min", "max")
    return {"histogram": {k: facet[k] for k in keys}}
