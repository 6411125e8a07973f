"""Ground truth: the query semantics evaluated in plain Python over the generator's records.

Nothing here reads the store, the dumper or an engine: values come straight from the
`bench.catalogue_generator` records and its ontology, so a backend that agrees with this module
agrees with the documented semantics, not merely with the other backend.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.catalogue_generator import (
    BODY_PARTS,
    DCM,
    DIAGNOSES,
    ONTOLOGY,
    SEQUENCES,
    SPECIES,
    Catalogue,
    ancestors,
)
from catalogue.search.backend import Aggregates, FacetCounts, GroupCounts
from catalogue.search.query import (
    And,
    Concept,
    Exists,
    Filter,
    HasSeries,
    HasStudy,
    HistogramFacet,
    Not,
    Or,
    Range,
    SearchQuery,
    Term,
    Terms,
    Text,
)

Node = dict[str, Any]


def words(*texts: str | None) -> set[str]:
    out: set[str] = set()
    for text in texts:
        if text:
            plain = "".join(
                c
                for c in unicodedata.normalize("NFKD", text).casefold()
                if not unicodedata.combining(c)
            )
            out |= {w for w in re.findall(r"[^\W_]+", plain) if len(w) <= 64}
    return out


def _coded(name: str, raws: Iterable[str], table: dict[str, str | None]) -> tuple[Node, list[str]]:
    raws = [r for r in raws if r]
    concepts = sorted({table[r] for r in raws if table.get(r)})  # type: ignore[misc]
    closure = sorted({c for iri in concepts for c in [iri, *ancestors(iri)]})
    labels = [ONTOLOGY[c][0] for c in concepts]
    return {name: sorted(set(raws)), f"{name}_concept": concepts, f"{name}_closure": closure}, [
        *raws,
        *labels,
    ]


@dataclass
class Truth:
    """Every subject, study and series as a flat node, plus collections and datasets."""

    subjects: list[Node] = field(default_factory=list)
    collections: list[Node] = field(default_factory=list)
    datasets: list[Node] = field(default_factory=list)

    @classmethod
    def of(cls, catalogue: Catalogue, datasets: Iterable[Node] = ()) -> Truth:
        truth = cls(datasets=list(datasets))
        for site, coll in catalogue.collections():
            top = {"site": site.slug, "collection": str(coll.id), "visibility": coll.visibility}
            truth.collections.append(
                {**top, "id": str(coll.id), "_words": words(coll.title, coll.description)}
            )
            for subject in coll.subjects:
                truth.subjects.append(_subject(top, coll.title, subject))
        return truth

    def nodes(self, kind: str) -> list[Node]:
        if kind == "subjects":
            return self.subjects
        if kind == "studies":
            return [st for s in self.subjects for st in s["_studies"]]
        if kind == "series":
            return [se for s in self.subjects for st in s["_studies"] for se in st["_series"]]
        return self.collections if kind == "collections" else self.datasets


def _subject(top: Node, title: str, s: Any) -> Node:
    species, species_words = _coded("species", [s.species], dict(SPECIES))
    diagnosis, diagnosis_words = _coded("diagnosis", s.diagnoses, DIAGNOSES)
    first = s.first_seen.strftime("%Y-%m-%dT%H:%M:%S.") + f"{s.first_seen.microsecond // 1000:03d}Z"
    node = {
        **top, "id": str(s.id), "sex": s.sex, "birth_year": s.birth_year, "group": s.group,
        "strain": s.strain, **species, **diagnosis, "first_seen": first,
        "study_count": len(s.studies), "series_count": sum(len(st.series) for st in s.studies),
    }  # fmt: skip
    above = words(title, s.group, s.strain, *species_words, *diagnosis_words)
    node["_studies"] = [_study(node, above, st) for st in s.studies]
    node["_words"] = above.union(*(st["_own"] for st in node["_studies"]))
    return node


def _study(subject: Node, above: set[str], st: Any) -> Node:
    fields = {"study_year": st.year, "age_years": st.age_years}
    own = words(st.description)
    base = {k: v for k, v in subject.items() if not k.startswith("_")}
    series = [_series({**base, **fields}, above | own, se) for se in st.series]
    mine = own.union(*(se["_own"] for se in series))
    return {
        **base,
        **fields,
        "id": str(st.id),
        "_series": series,
        "_own": mine,
        "_words": above | mine,
    }


def _series(parent: Node, above: set[str], se: Any) -> Node:
    modality, m_words = _coded(
        "modality", [se.modality], {k: DCM + k for k in ("MR", "CT", "PT", "SEG")}
    )
    body, b_words = _coded("body_part", [se.body_part] if se.body_part else [], BODY_PARTS)
    sequence, q_words = _coded("sequence_type", [se.sequence] if se.sequence else [], SEQUENCES)
    own = words(
        se.description, se.sequence, se.manufacturer, se.model_name, *m_words, *b_words, *q_words
    )
    return {
        **parent, "id": str(se.id), **modality, **body, **sequence,
        "contrast_agent": se.contrast_agent, "manufacturer": se.manufacturer,
        "model_name": se.model_name, "field_strength_t": se.field_strength_t,
        "slice_thickness_mm": se.slice_thickness_mm, "repetition_time_ms": se.repetition_time_ms,
        "echo_time_ms": se.echo_time_ms, "inversion_time_ms": se.inversion_time_ms,
        "flip_angle_deg": se.flip_angle_deg, "image_type": sorted(set(se.image_type)),
        "sop_class_uids": [], "annotations": se.annotations, "instance_count": se.instance_count,
        "year": se.year, "_own": own, "_words": above | own,
    }  # fmt: skip


# -- evaluation ------------------------------------------------------------------------------
def _values(node: Node, name: str) -> list[Any]:
    value = node.get(name)
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _eq(a: Any, b: Any) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def matches(node: Node, f: Filter) -> bool:
    if isinstance(f, And):
        return all(matches(node, c) for c in f.all)
    if isinstance(f, Or):
        return any(matches(node, c) for c in f.any)
    if isinstance(f, Not):
        return not matches(node, f.filter)
    if isinstance(f, HasStudy):
        return any(matches(st, f.where) for st in node["_studies"])
    if isinstance(f, HasSeries):
        children = (
            node["_series"]
            if "_series" in node
            else [se for st in node["_studies"] for se in st["_series"]]
        )
        return any(matches(se, f.where) for se in children)
    if isinstance(f, Text):
        return words(f.text) <= node["_words"]
    if isinstance(f, Concept):
        return f.iri in _values(node, f.field + ("_closure" if f.descendants else "_concept"))
    values = _values(node, f.field)
    if isinstance(f, Exists):
        return bool(values)
    if isinstance(f, Term):
        return any(_eq(v, f.value) for v in values)
    if isinstance(f, Terms):
        return any(_eq(v, w) for v in values for w in f.values)
    assert isinstance(f, Range)
    checks: list[Callable[[Any], bool]] = []
    if f.gte is not None:
        checks.append(lambda v: v >= f.gte)
    if f.gt is not None:
        checks.append(lambda v: v > f.gt)
    if f.lte is not None:
        checks.append(lambda v: v <= f.lte)
    if f.lt is not None:
        checks.append(lambda v: v < f.lt)
    return any(all(c(v) for c in checks) for v in values)


def select(truth: Truth, q: SearchQuery, collections: set[str] | None = None) -> list[Node]:
    found = []
    for node in truth.nodes(q.kind):
        if (
            collections is not None
            and q.kind != "datasets"
            and node["collection"] not in collections
        ):
            continue
        if q.kind == "datasets" and collections is not None and node["state"] != "findable":
            continue
        if q.text and not words(q.text) <= node["_words"]:
            continue
        if q.filter is None or matches(node, q.filter):
            found.append(node)
    return found


def ordered_ids(nodes: list[Node], q: SearchQuery) -> list[str]:
    """Hits in the engines' order: each sort key missing-last, then ids ascending."""
    result = sorted(nodes, key=lambda n: n["id"])
    for sort in reversed(q.sort):
        present = [n for n in result if n.get(sort.field) is not None]
        missing = [n for n in result if n.get(sort.field) is None]
        present.sort(key=lambda n: n[sort.field], reverse=sort.order == "desc")
        result = present + missing
    return [n["id"] for n in result]


# -- aggregates ------------------------------------------------------------------------------
def _below(kind: str, node: Node, level: str) -> list[Node]:
    if kind == "subjects" and level == "study":
        return node["_studies"]
    if kind in {"subjects", "studies"} and level == "series":
        return (
            node["_series"]
            if "_series" in node
            else [se for st in node["_studies"] for se in st["_series"]]
        )
    return [node]


def _facet(kind: str, nodes: list[Node], facet: Any, level: str) -> FacetCounts:
    counts = FacetCounts()
    edges = facet.edges() if isinstance(facet, HistogramFacet) else None
    for node in nodes:
        values = {v for below in _below(kind, node, level) for v in _values(below, facet.field)}
        counts.with_value += bool(values)
        keys: set[Any] = set()
        for v in values:
            if edges is None:
                keys.add(v)
            elif edges[0] <= v < edges[-1]:
                keys.add(bisect_right(edges, v) - 1)
        for key in keys:
            counts.buckets[key] = counts.buckets.get(key, 0) + 1
    return counts


def aggregate(
    truth: Truth,
    q: SearchQuery,
    by_collection: bool,
    sums: tuple[str, ...] = (),
    collections: set[str] | None = None,
) -> Aggregates:
    from catalogue.search.fields import FIELDS, ROOT_FIELDS

    groups: dict[str, list[Node]] = {}
    for node in select(truth, q, collections):
        groups.setdefault(node.get("collection", "") if by_collection else "", []).append(node)
    out = Aggregates(groups={})
    for key, nodes in groups.items():
        group = GroupCounts(docs=len(nodes), sums={n: sum(x[n] for x in nodes) for n in sums})
        for facet in q.facets:
            spec = FIELDS[facet.field]
            level = "root" if spec.level in ROOT_FIELDS[q.kind] else spec.level.value
            group.facets[facet.field] = _facet(q.kind, nodes, facet, level)
        out.groups[key] = group
    return out
