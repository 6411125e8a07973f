"""The one query model: free text, filters, per-subject and per-study series predicates, facets,
sort and cursor paging. `validate_query` is the only way in; it checks shape, limits, fields per
level and value types, and raises `ValidationError` with a located detail per problem.

Free text is split into words by `fields.tokens` and handed to the engines as plain terms, so it
never becomes query syntax of either engine.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Tag
from pydantic import Field as PydanticField
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import ErrorDetail, ValidationError
from catalogue.search.fields import (
    CONCEPT_FIELDS,
    FIELDS,
    NESTED_FIELDS,
    ROOT_FIELDS,
    Field,
    FieldType,
    Kind,
    Level,
    tokens,
)

MAX_DEPTH = 8  # nesting of and / or / not / has_study / has_series
MAX_NODES = 64
MAX_TERMS = 500
MAX_TEXT = 256
MAX_WORDS = 32
MAX_SIZE = 1000
MAX_FACETS = 12
MAX_FACET_SIZE = 200
MAX_BINS = 100
MAX_SORT = 3
SCORE = "_score"

Scalar = Annotated[str, PydanticField(max_length=1024)] | int | float | bool
FieldName = Annotated[str, PydanticField(min_length=1, max_length=64)]
Bound = Annotated[str, PydanticField(max_length=64)] | int | float | None
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Term(_Node):
    op: Literal["term"] = "term"
    field: FieldName
    value: Scalar


class Terms(_Node):
    op: Literal["terms"] = "terms"
    field: FieldName
    values: Annotated[list[Scalar], PydanticField(min_length=1, max_length=MAX_TERMS)]


class Range(_Node):
    op: Literal["range"] = "range"
    field: FieldName
    gte: Bound = None
    gt: Bound = None
    lte: Bound = None
    lt: Bound = None


class Exists(_Node):
    op: Literal["exists"] = "exists"
    field: FieldName


class Concept(_Node):
    """The concept or, by default, any of its descendants."""

    op: Literal["concept"] = "concept"
    field: FieldName
    iri: Annotated[str, PydanticField(min_length=3, max_length=512)]
    descendants: bool = True


class Text(_Node):
    op: Literal["text"] = "text"
    text: Annotated[str, PydanticField(min_length=1, max_length=MAX_TEXT)]


class And(_Node):
    op: Literal["and"] = "and"
    all: Annotated[list[Filter], PydanticField(min_length=1, max_length=MAX_NODES)]


class Or(_Node):
    op: Literal["or"] = "or"
    any: Annotated[list[Filter], PydanticField(min_length=1, max_length=MAX_NODES)]


class Not(_Node):
    op: Literal["not"] = "not"
    filter: Filter


class HasStudy(_Node):
    """A study of the subject satisfies `where` (its series predicates apply within it)."""

    op: Literal["has_study"] = "has_study"
    where: Filter


class HasSeries(_Node):
    """A series (with its study's fields) satisfies `where`; two of these are two series."""

    op: Literal["has_series"] = "has_series"
    where: Filter


Filter = Annotated[
    Term | Terms | Range | Exists | Concept | Text | And | Or | Not | HasStudy | HasSeries,
    PydanticField(discriminator="op"),
]
for _model in (And, Or, Not, HasStudy, HasSeries):
    _model.model_rebuild()


class TermsFacet(_Node):
    type: Literal["terms"] = "terms"
    field: FieldName
    size: Annotated[int, PydanticField(ge=1, le=MAX_FACET_SIZE)] = 10


class HistogramFacet(_Node):
    """Fixed bins `[min + i*interval, min + (i+1)*interval)` up to `max`."""

    type: Literal["histogram"] = "histogram"
    field: FieldName
    interval: Annotated[float, PydanticField(gt=0)]
    min: float
    max: float

    @property
    def bins(self) -> int:
        return max(1, int(-(-(self.max - self.min) // self.interval)))

    def edges(self) -> list[float]:
        """Bin boundaries; both engines compare values against exactly these doubles."""
        return [self.min + k * self.interval for k in range(self.bins)] + [self.max]


def _facet_tag(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("type") or ("histogram" if "interval" in value else "terms"))
    return str(getattr(value, "type", "terms"))


Facet = Annotated[
    Annotated[TermsFacet, Tag("terms")] | Annotated[HistogramFacet, Tag("histogram")],
    Discriminator(_facet_tag),
]


class Sort(_Node):
    field: FieldName
    order: Literal["asc", "desc"] = "asc"


class SearchQuery(_Node):
    kind: Kind = "subjects"
    text: Annotated[str, PydanticField(max_length=MAX_TEXT)] | None = None
    filter: Filter | None = None
    facets: Annotated[list[Facet], PydanticField(max_length=MAX_FACETS)] = []
    sort: Annotated[list[Sort], PydanticField(max_length=MAX_SORT)] = []
    size: Annotated[int, PydanticField(ge=0, le=MAX_SIZE)] = 20
    cursor: Annotated[str, PydanticField(max_length=4096)] | None = None

    def effective_sort(self) -> list[Sort]:
        """The sort the engines apply: relevance for free text, else ids; ids break ties."""
        if self.sort:
            return list(self.sort)
        return [Sort(field=SCORE, order="desc")] if self.text else []

    def fingerprint(self) -> str:
        """What a cursor must belong to: the same kind, text, filter and sort."""
        shape = self.model_dump(mode="json", include={"kind", "text", "filter", "sort"})
        digest = hashlib.sha256(json.dumps(shape, sort_keys=True).encode()).hexdigest()
        return digest[:16]


# -- validation ------------------------------------------------------------------------------
class _Scope:
    def __init__(self, kind: Kind, nested: Level | None = None) -> None:
        self.kind, self.nested = kind, nested
        self.levels = NESTED_FIELDS[nested] if nested else ROOT_FIELDS[kind]

    def allows(self, op: str) -> bool:
        if op == "has_study":
            return self.kind == "subjects" and self.nested is None
        if op == "has_series":
            return self.kind in {"subjects", "studies"} and self.nested is not Level.SERIES
        return True


class _Checker:
    def __init__(self) -> None:
        self.errors: list[ErrorDetail] = []
        self.nodes = 0

    def error(self, loc: str, message: str) -> None:
        self.errors.append(ErrorDetail(location=loc, message=message))

    def field(self, name: str, scope: _Scope, loc: str) -> Field | None:
        spec = FIELDS.get(name)
        if spec is None:
            self.error(loc, f"unknown field {name!r}")
            return None
        if spec.level not in scope.levels:
            where = f"inside has_{scope.nested.value}" if scope.nested else f"on {scope.kind}"
            hint = ""
            if spec.level in {Level.SERIES, Level.STUDY} and scope.allows(f"has_{spec.level}"):
                hint = f": put it inside has_{spec.level.value}"
            self.error(
                loc, f"field {name!r} ({spec.level.value} level) is not available {where}{hint}"
            )
            return None
        return spec

    def value(self, spec: Field, value: Any, loc: str) -> Any:
        """The value in the field's type, or None after recording why it does not fit."""
        kind = spec.type
        if kind is FieldType.KEYWORD and isinstance(value, str):
            return value
        if kind is FieldType.BOOLEAN and isinstance(value, bool):
            return value
        if spec.numeric and isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if kind is FieldType.DATE and isinstance(value, str):
            normal = normalise_date(value)
            if normal is None:
                self.error(loc, "expects an ISO 8601 date, e.g. 2024-05-01 or 2024-05-01T12:00:00Z")
            return normal
        self.error(loc, f"field {spec.name!r} expects {_EXPECTED[kind]}")
        return None

    def walk(self, node: Any, scope: _Scope, loc: str, depth: int) -> None:
        self.nodes += 1
        if self.nodes == MAX_NODES + 1:
            self.error("filter", f"too many clauses: at most {MAX_NODES}")
        if depth > MAX_DEPTH:
            self.error(loc, f"nested too deeply: at most {MAX_DEPTH} levels")
            return
        if not scope.allows(node.op):
            self.error(loc + ".op", f"{node.op} is not available here")
            return
        for name, child, child_scope in _children(node, scope):
            self.walk(child, child_scope, f"{loc}.{name}", depth + 1)
        self.leaf(node, scope, loc)

    def leaf(self, node: Any, scope: _Scope, loc: str) -> None:
        if isinstance(node, Text):
            self.text(node.text, loc + ".text")
        elif isinstance(node, Term | Terms | Range | Exists):
            spec = self.field(node.field, scope, loc + ".field")
            if spec is not None:
                self.typed(node, spec, loc)
        elif isinstance(node, Concept):
            self.concept(node, scope, loc)

    def typed(self, node: Term | Terms | Range | Exists, spec: Field, loc: str) -> None:
        if isinstance(node, Term):
            node.value = self.value(spec, node.value, loc + ".value")
        elif isinstance(node, Terms):
            node.values = [
                self.value(spec, v, f"{loc}.values.{i}") for i, v in enumerate(node.values)
            ]
        elif isinstance(node, Range):
            self.range(node, spec, loc)

    def range(self, node: Range, spec: Field, loc: str) -> None:
        if not spec.ordered:
            self.error(loc + ".field", f"range needs a number or date field, not {spec.name!r}")
            return
        bounds = {k: getattr(node, k) for k in ("gte", "gt", "lte", "lt")}
        given = {k: v for k, v in bounds.items() if v is not None}
        if not given:
            self.error(loc, "range needs at least one of gte, gt, lte, lt")
        if ("gte" in given and "gt" in given) or ("lte" in given and "lt" in given):
            self.error(loc, "give one lower bound (gte or gt) and one upper bound (lte or lt)")
        for key, value in given.items():
            setattr(node, key, self.value(spec, value, f"{loc}.{key}"))

    def concept(self, node: Concept, scope: _Scope, loc: str) -> None:
        if node.field not in CONCEPT_FIELDS:
            names = ", ".join(sorted(CONCEPT_FIELDS))
            self.error(loc + ".field", f"concept filters apply to coded fields: {names}")
        else:
            self.field(node.field, scope, loc + ".field")
        if not _IRI.match(node.iri):
            self.error(loc + ".iri", "expects an absolute IRI, e.g. http://snomed.info/id/12738006")

    def text(self, text: str, loc: str) -> None:
        words = tokens(text)
        if not words:
            self.error(loc, "has no words to search for")
        elif len(words) > MAX_WORDS:
            self.error(loc, f"too many words: at most {MAX_WORDS}")


_EXPECTED = {
    FieldType.KEYWORD: "a string",
    FieldType.INTEGER: "an integer",
    FieldType.FLOAT: "a number",
    FieldType.BOOLEAN: "true or false",
    FieldType.DATE: "an ISO 8601 date",
}


def _children(node: Any, scope: _Scope) -> Iterator[tuple[str, Any, _Scope]]:
    if isinstance(node, And):
        yield from ((f"all.{i}", c, scope) for i, c in enumerate(node.all))
    elif isinstance(node, Or):
        yield from ((f"any.{i}", c, scope) for i, c in enumerate(node.any))
    elif isinstance(node, Not):
        yield "filter", node.filter, scope
    elif isinstance(node, HasStudy):
        yield "where", node.where, _Scope(scope.kind, Level.STUDY)
    elif isinstance(node, HasSeries):
        yield "where", node.where, _Scope(scope.kind, Level.SERIES)


def _check_facets(query: SearchQuery, check: _Checker) -> None:
    scope = _Scope(query.kind)
    nested = {Level.STUDY, Level.SERIES} if query.kind in {"subjects", "studies"} else set()
    seen: set[str] = set()
    for i, facet in enumerate(query.facets):
        loc = f"facets.{i}"
        spec = FIELDS.get(facet.field)
        if spec is None or not (spec.level in scope.levels or spec.level in nested):
            check.error(loc + ".field", f"no field {facet.field!r} to count {query.kind} by")
            continue
        if spec.name in seen:
            check.error(loc + ".field", "each field can be faceted once")
        seen.add(spec.name)
        if isinstance(facet, HistogramFacet):
            if not spec.numeric:
                check.error(loc + ".field", "histograms need a number field")
            elif facet.max <= facet.min:
                check.error(loc + ".max", "must be greater than min")
            elif facet.bins > MAX_BINS:
                check.error(loc + ".interval", f"gives more than {MAX_BINS} bins")


def _check_sort(query: SearchQuery, check: _Checker) -> None:
    scope = _Scope(query.kind)
    for i, sort in enumerate(query.sort):
        loc = f"sort.{i}.field"
        if sort.field == SCORE:
            if not query.text:
                check.error(loc, "sorting by relevance needs text")
            continue
        spec = check.field(sort.field, scope, loc)
        if spec is not None and spec.multi:
            check.error(loc, f"cannot sort by {sort.field!r}: it holds several values")


def validate_query(data: SearchQuery | Mapping[str, Any]) -> SearchQuery:
    """A checked query (values coerced to their fields' types), or `ValidationError`."""
    raw = data.model_dump() if isinstance(data, SearchQuery) else data
    if not isinstance(raw, Mapping):
        raise ValidationError("the query must be an object")
    if _depth(raw) > 4 * MAX_DEPTH + 8:
        raise ValidationError("invalid query", [ErrorDetail("nested too deeply", "filter")])
    try:
        query = SearchQuery.model_validate(raw)
    except PydanticValidationError as exc:
        raise ValidationError("invalid query", _pydantic_details(exc)) from None
    check = _Checker()
    if query.text is not None:
        check.text(query.text, "text")
    if query.filter is not None:
        check.walk(query.filter, _Scope(query.kind), "filter", 1)
    _check_facets(query, check)
    _check_sort(query, check)
    if check.errors:
        raise ValidationError("invalid query", check.errors)
    return query


def _depth(value: Any, limit: int = 200) -> int:
    """Depth of a JSON-like value, iteratively (a hostile document must not blow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, Mapping) else item
        if isinstance(item, Mapping | list | tuple):
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _pydantic_details(exc: PydanticValidationError) -> list[ErrorDetail]:
    details = []
    for err in exc.errors(include_url=False, include_input=False)[:20]:
        # discriminated unions add the tag as a location part; keep the path a user wrote
        parts = err["loc"]
        loc = ".".join(str(p) for i, p in enumerate(parts) if i + 1 == len(parts) or not _is_tag(p))
        details.append(ErrorDetail(message=err["msg"], location=loc or None))
    return details


_TAGS = frozenset(
    {"term", "terms", "range", "exists", "concept", "text", "and", "or", "not", "has_study"}
    | {"has_series", "histogram"}
)


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part in _TAGS


def normalise_date(value: str) -> str | None:
    """`YYYY`, `YYYY-MM-DD` or an ISO datetime, as UTC with milliseconds (both engines compare
    these strings / instants the same way)."""
    try:
        if re.fullmatch(r"\d{4}", value):
            moment = datetime(int(value), 1, 1, tzinfo=UTC)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return format_date(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def format_date(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


# -- cursors ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Position:
    """Where a page starts: after these sort values; `total` was counted on the first page
    (later pages skip counting, so walking a million hits costs one count)."""

    after: list[Any]
    total: int


def encode_cursor(query: SearchQuery, position: Position, engine: str) -> str:
    """Opaque to callers: the engine's position after a page, bound to the query and engine."""
    payload = {"q": query.fingerprint(), "e": engine, "a": position.after, "t": position.total}
    text = json.dumps(payload, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(query: SearchQuery, engine: str) -> Position | None:
    """The position after which the page starts, or None for the first page."""
    if query.cursor is None:
        return None
    try:
        padded = query.cursor + "=" * (-len(query.cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, owner, made_by, total = payload["a"], payload["q"], payload["e"], payload["t"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValidationError("invalid query", [ErrorDetail("not a cursor", "cursor")]) from None
    if made_by != engine:
        detail = ErrorDetail("comes from another search engine: repeat the query", "cursor")
        raise ValidationError("invalid query", [detail])
    if owner != query.fingerprint() or not isinstance(after, list) or not isinstance(total, int):
        detail = ErrorDetail("belongs to another query: repeat the query it came from", "cursor")
        raise ValidationError("invalid query", [detail])
    return Position(after, total)
