"""Checked queries → Elasticsearch query DSL and aggregations; the index mappings.

Series predicates become `nested` queries on `studies.series` (subjects) or `series` (studies);
`has_study` a `nested` query on `studies` holding its series predicates, so they must hold within
one study. Free text is a `match` (operator AND) on the whitespace-analysed `text` field: its
words are plain terms, never query-string syntax. Facets below the document count distinct
documents through `reverse_nested`.
"""

from __future__ import annotations

import itertools
from typing import Any

from catalogue.search.backend import FACET_CAP, Scope
from catalogue.search.fields import (
    FIELDS,
    NESTED_FIELDS,
    ROOT_FIELDS,
    Field,
    FieldType,
    Kind,
    Level,
    fields_of,
    tokens,
)
from catalogue.search.query import (
    SCORE,
    And,
    Concept,
    Exists,
    Facet,
    Filter,
    HasSeries,
    HasStudy,
    HistogramFacet,
    Not,
    Or,
    Range,
    Sort,
    Term,
    Terms,
    Text,
)

Json = dict[str, Any]
SCHEMA_VERSION = "1"
_TYPES = {
    FieldType.KEYWORD: {"type": "keyword"},
    FieldType.INTEGER: {"type": "long"},
    FieldType.FLOAT: {"type": "double"},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.DATE: {"type": "date", "format": "strict_date_optional_time"},
}
_TEXT = {"type": "text", "analyzer": "whitespace"}
_STORED = {"type": "keyword", "index": False, "doc_values": False}


# -- mappings -----------------------------------------------------------------------------------
def _properties(levels: frozenset[Level]) -> Json:
    props: Json = {"id": {"type": "keyword"}, "iri": _STORED, "text": _TEXT}
    props.update({f.name: _TYPES[f.type] for f in fields_of(levels)})
    return props


def mapping(kind: Kind) -> Json:
    props = _properties(ROOT_FIELDS[kind])
    series = {"type": "nested", "properties": _properties(NESTED_FIELDS[Level.SERIES])}
    if kind == "subjects":
        study = _properties(NESTED_FIELDS[Level.STUDY]) | {"series": series}
        props["studies"] = {"type": "nested", "properties": study}
    elif kind == "studies":
        props["series"] = series
    elif kind in {"collections", "datasets"}:
        props["title"] = _STORED
    return {"dynamic": "strict", "_meta": {"schema": SCHEMA_VERSION}, "properties": props}


# -- queries ------------------------------------------------------------------------------------
def nested_path(kind: Kind, level: Level) -> str:
    if kind == "subjects":
        return "studies" if level is Level.STUDY else "studies.series"
    return "series"


def _name(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def compile_filter(node: Filter, kind: Kind, path: str = "") -> Json:
    if isinstance(node, And):
        return {"bool": {"filter": [compile_filter(c, kind, path) for c in node.all]}}
    if isinstance(node, Or):
        clauses = [compile_filter(c, kind, path) for c in node.any]
        return {"bool": {"should": clauses, "minimum_should_match": 1}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [compile_filter(node.filter, kind, path)]}}
    if isinstance(node, HasStudy | HasSeries):
        inner = nested_path(kind, Level.STUDY if isinstance(node, HasStudy) else Level.SERIES)
        return {"nested": {"path": inner, "query": compile_filter(node.where, kind, inner)}}
    if isinstance(node, Text):
        return match(_name(path, "text"), node.text)
    return _leaf(node, path)


def _leaf(node: Term | Terms | Range | Exists | Concept, path: str) -> Json:
    if isinstance(node, Concept):
        suffix = "_closure" if node.descendants else "_concept"
        return {"term": {_name(path, node.field + suffix): node.iri}}
    name = _name(path, node.field)
    if isinstance(node, Term):
        return {"term": {name: node.value}}
    if isinstance(node, Terms):
        return {"terms": {name: list(node.values)}}
    if isinstance(node, Exists):
        return {"exists": {"field": name}}
    bounds = {
        k: getattr(node, k) for k in ("gte", "gt", "lte", "lt") if getattr(node, k) is not None
    }
    return {"range": {name: bounds}}


def match(field: str, text: str) -> Json:
    return {"match": {field: {"query": " ".join(tokens(text)), "operator": "and"}}}


def scope_filter(kind: Kind, scope: Scope) -> list[Json]:
    if kind == "datasets":
        states = scope.dataset_states
        return [] if states is None else [{"terms": {"state": sorted(states)}}]
    return (
        [] if scope.collections is None else [{"terms": {"collection": sorted(scope.collections)}}]
    )


def query(kind: Kind, text: str | None, filter: Filter | None, scope: Scope) -> Json:
    clauses = scope_filter(kind, scope)
    if filter is not None:
        clauses.append(compile_filter(filter, kind))
    body: Json = {"filter": clauses}
    if text:
        body["must"] = [match("text", text)]
    return {"bool": body}


def sort(sorts: tuple[Sort, ...]) -> list[Json]:
    out: list[Json] = []
    for s in sorts:
        if s.field == SCORE:
            out.append({"_score": {"order": s.order}})
        else:
            out.append({s.field: {"order": s.order, "missing": "_last"}})
    return [*out, {"id": {"order": "asc"}}]


# -- aggregations -------------------------------------------------------------------------------
def facet_aggs(kind: Kind, facet: Facet) -> Json:
    """One facet: buckets (`t`, or `h` for a histogram) and documents with a value (`e`)."""
    spec = FIELDS[facet.field]
    nested = spec.level not in ROOT_FIELDS[kind]
    path = nested_path(kind, spec.level) if nested else ""
    name = _name(path, spec.name)
    up: Json = {"aggs": {"r": {"reverse_nested": {}}}} if nested else {}
    aggs: Json = {"e": {"filter": {"exists": {"field": name}}, **up}}
    if isinstance(facet, HistogramFacet):
        edges = facet.edges()
        ranges = [{"from": a, "to": b} for a, b in itertools.pairwise(edges)]
        aggs["h"] = {"range": {"field": name, "ranges": ranges}, **up}
    else:
        order = [{"r": "desc"} if nested else {"_count": "desc"}, {"_key": "asc"}]
        aggs["t"] = {"terms": {"field": name, "size": FACET_CAP, "order": order}, **up}
    return (
        {"nested": {"path": path}, "aggs": aggs}
        if nested
        else {"filter": {"match_all": {}}, "aggs": aggs}
    )


def read_facet(spec: Field, result: Json) -> tuple[dict[Any, int], int]:
    """Buckets and documents-with-value from a `facet_aggs` result (per group, per answer)."""
    buckets: dict[Any, int] = {}
    if "h" in result:
        for index, bucket in enumerate(result["h"]["buckets"]):
            if n := _count(bucket):
                buckets[index] = n
    else:
        for bucket in result["t"]["buckets"]:
            buckets[_key(spec, bucket)] = _count(bucket)
    return buckets, _count(result["e"])


def _count(bucket: Json) -> int:
    """Documents in a bucket: counted up through `reverse_nested` when the field is nested."""
    up = bucket.get("r")
    return int(up["doc_count"] if up is not None else bucket["doc_count"])


def _key(spec: Field, bucket: Json) -> Any:
    if spec.type is FieldType.BOOLEAN:
        return bool(bucket["key"])
    if spec.type is FieldType.DATE:
        return bucket["key_as_string"]
    return bucket["key"]
