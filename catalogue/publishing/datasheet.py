"""A dataset's datasheet: how its members spread over sites, modalities, sequence types, sex,
age bands, manufacturers, field strengths and annotations, so users can judge how
representative it is.

The raw form is computed once, when a version is frozen: every bucket split into an exact part
(members listed by record) and a restricted part (members of aggregate-only collections). It is
shown through the same suppression policy as every other aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from catalogue.models import Visibility
from catalogue.publishing.members import SeriesRow
from catalogue.publishing.views import SiteCount
from catalogue.search.suppression import Count, Key, Policy, Table

UNKNOWN = "unknown"


def _age_band(row: SeriesRow) -> str:
    age = row.fields.get("age_years")
    if age is None:
        return UNKNOWN
    low = min(int(age) // 10 * 10, 90)
    return "90+" if low == 90 else f"{low}-{low + 9}"


def _field_strength(row: SeriesRow) -> str:
    tesla = row.fields.get("field_strength_t")
    return UNKNOWN if tesla is None else f"{float(tesla):g} T"


def _plain(name: str) -> Callable[[SeriesRow], str]:
    def value(row: SeriesRow) -> str:
        found = row.fields.get(name)
        return UNKNOWN if found is None or found == "" else str(found)

    return value


#: dimension → (what is counted, the bucket of one member series)
DIMENSIONS: dict[str, tuple[str, Callable[[SeriesRow], str]]] = {
    "site": ("subjects", lambda row: row.site),
    "sex": ("subjects", _plain("sex")),
    "age_band": ("subjects", _age_band),
    "modality": ("series", _plain("modality")),
    "sequence_type": ("series", _plain("sequence_type")),
    "manufacturer": ("series", _plain("manufacturer")),
    "field_strength": ("series", _field_strength),
    "annotations": ("series", lambda row: "yes" if row.fields.get("annotations") else "no"),
}


def raw_datasheet(rows: Sequence[SeriesRow]) -> dict[str, Any]:
    """`{"totals": {unit: [exact, restricted]}, "dimensions": {name: {bucket: [e, r]}}}`.
    A subject counts once per dimension, in the bucket of its first member series."""
    totals = {"subjects": [0, 0], "series": [0, 0]}
    dims: dict[str, dict[str, list[int]]] = {name: {} for name in DIMENSIONS}
    seen_subjects: set[Any] = set()
    for row in rows:
        part = 1 if row.visibility is Visibility.AGGREGATE else 0
        first = row.subject_id not in seen_subjects
        seen_subjects.add(row.subject_id)
        totals["series"][part] += 1
        totals["subjects"][part] += first
        for name, (unit, bucket) in DIMENSIONS.items():
            if unit == "series" or first:
                dims[name].setdefault(bucket(row), [0, 0])[part] += 1
    return {"totals": totals, "dimensions": dims}


class DatasheetBucket(BaseModel):
    value: str
    count: Count


class DatasheetDimension(BaseModel):
    name: str
    unit: str  # subjects or series
    buckets: list[DatasheetBucket]


class Datasheet(BaseModel):
    subjects: Count
    series: Count
    dimensions: list[DatasheetDimension]
    threshold: int


def render(raw: dict[str, Any], policy: Policy, exact: bool) -> Datasheet:
    """The datasheet as a caller sees it: restricted parts suppressed unless `exact`, with
    complementary suppression across each dimension and its total."""
    table = Table()
    for unit, (e, r) in raw.get("totals", {}).items():
        table.add(("m", unit), e + (r if exact else 0), 0 if exact else r)
    keys: dict[str, list[Key]] = {}
    for name, buckets in raw.get("dimensions", {}).items():
        keys[name] = []
        for value, (e, r) in sorted(buckets.items()):
            key = ("f", name, value)
            table.add(key, e + (r if exact else 0), 0 if exact else r)
            keys[name].append(key)
        table.relations.append((("m", DIMENSIONS[name][0]), keys[name]))
    policy.apply(table)
    dimensions = [
        DatasheetDimension(
            name=name,
            unit=DIMENSIONS[name][0],
            buckets=[DatasheetBucket(value=k[2], count=policy.count(table.cells[k])) for k in ks],
        )
        for name, ks in keys.items()
    ]
    return Datasheet(
        subjects=policy.count(table.cell(("m", "subjects"))),
        series=policy.count(table.cell(("m", "series"))),
        dimensions=dimensions,
        threshold=policy.threshold,
    )


def shown_counted(
    counted_raw: list[dict[str, Any]], policy: Policy, admin: bool
) -> list[SiteCount]:
    """Aggregate-only members per site; below the threshold suppressed for non-admins,
    and then at least one more site too, so no site is recovered from a total."""
    counted = [SiteCount(**c) for c in counted_raw]
    if admin:
        return counted
    k = policy.threshold
    hidden = {c.site for c in counted if c.subjects is not None and c.subjects < k}
    if len(hidden) == 1 and len(counted) > 1:
        rest = sorted((c for c in counted if c.site not in hidden), key=lambda c: c.subjects or 0)
        hidden.add(rest[0].site)
    return [
        SiteCount(site=c.site, subjects=None, series=None, suppressed=True)
        if c.site in hidden
        else c
        for c in counted
    ]
