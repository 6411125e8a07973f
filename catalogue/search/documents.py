"""The one dumper: store rows → index documents, which both backends index as they are.

A subject is dumped with everything below it, because a subject document nests its studies and
their series (so series predicates combine per subject) and study and series documents copy the
fields of their ancestors (so they filter on them without joins). Records that are soft-deleted,
or whose collection, subject or study is, become deletions instead of documents.

Text: each document's `text` holds the words of its own text fields, of its descendants' and of
its ancestors' (the collection title), normalised by `fields.tokens`.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from catalogue.models import (
    CodedValue,
    Collection,
    Dataset,
    ImagingStudy,
    Series,
    Site,
    Subject,
)
from catalogue.search.fields import CONCEPT_FIELDS, Kind, Level, text_value
from catalogue.search.query import format_date
from catalogue.store import Store

CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's parameter limits
SERIES_NUMBERS = (
    "field_strength_t",
    "slice_thickness_mm",
    "repetition_time_ms",
    "echo_time_ms",
    "inversion_time_ms",
    "flip_angle_deg",
    "instance_count",
    "year",
)
SERIES_TEXT = ("series_description", "protocol_name", "sequence_name", "manufacturer", "model_name")


@dataclass(frozen=True, slots=True)
class Document:
    kind: Kind
    id: str
    body: dict[str, Any]


DocRef = tuple[Kind, str]
_T = TypeVar("_T")
Row = Any  # a subject, study or series row (SQLAlchemy `Row`, read by column name)


@dataclass
class Dump:
    docs: list[Document] = field(default_factory=list)
    deletes: list[DocRef] = field(default_factory=list)

    def extend(self, other: Dump) -> None:
        self.docs += other.docs
        self.deletes += other.deletes


@dataclass
class _Coded:
    """The coded values of one record, per field: raw values, concepts, closure, label words."""

    raw: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    concepts: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    closure: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    labels: list[str] = field(default_factory=list)

    def add(
        self, name: str, original: str, iri: str | None, label: str | None, up: list[str]
    ) -> None:
        self.raw[name].add(original)
        if iri:
            self.concepts[name].add(iri)
            self.closure[name].update([iri, *up])
        self.labels += [original, label or ""]

    def fields(self, level: Level, columns: dict[str, str | None] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, where in CONCEPT_FIELDS.items():
            if where is level:
                raw = set(self.raw.get(name, ()))
                if columns and columns.get(name):
                    raw.add(str(columns[name]))
                out[name] = sorted(v for v in raw if v)
                out[f"{name}_concept"] = sorted(self.concepts.get(name, ()))
                out[f"{name}_closure"] = sorted(self.closure.get(name, ()))
        return out


@functools.lru_cache(maxsize=4096)
def _parsed(raw: str) -> tuple[str, ...]:
    return tuple(json.loads(raw))


def _ancestors(raw: str | list[str] | None) -> list[str]:
    """A JSON list as SQLite gives it (text, parsed once per distinct value) or as psycopg does."""
    if isinstance(raw, str):
        return list(_parsed(raw))
    return list(raw or [])


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


class Dumper:
    """Builds documents inside one store session; collections are cached per dumper."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._collections: dict[uuid.UUID, dict[str, Any] | None] = {}

    # -- collections ---------------------------------------------------------------------------
    def _collection(self, ids: Iterable[uuid.UUID]) -> None:
        missing = [i for i in set(ids) if i not in self._collections]
        for chunk in _chunks(missing):
            rows = self.session.exec(
                select(Collection, Site.slug)
                .join(Site, col(Site.id) == col(Collection.site_id))
                .where(col(Collection.id).in_(chunk))
            )
            for coll, slug in rows:
                self._collections[coll.id] = {
                    "id": str(coll.id),
                    "iri": coll.iri,
                    "site": slug,
                    "collection": str(coll.id),
                    "visibility": coll.visibility.value,
                    "title": coll.title,
                    "description": coll.description,
                    "title_text": text_value(coll.title),
                    "live": coll.deleted_at is None,
                }
        for i in missing:
            self._collections.setdefault(i, None)

    def collections(self, ids: Sequence[uuid.UUID]) -> Dump:
        self._collection(ids)
        dump = Dump()
        for i in ids:
            c = self._collections[i]
            if c is None or not c["live"]:
                dump.deletes.append(("collections", str(i)))
                continue
            body = {k: c[k] for k in ("id", "iri", "site", "collection", "visibility", "title")}
            body["text"] = text_value(c["title"], c["description"])
            dump.docs.append(Document("collections", c["id"], body))
        return dump

    # -- datasets ------------------------------------------------------------------------------
    def datasets(self, ids: Sequence[uuid.UUID]) -> Dump:
        found: dict[uuid.UUID, Dataset] = {}
        for chunk in _chunks(list(ids)):
            found.update(
                (d.id, d)
                for d in self.session.exec(select(Dataset).where(col(Dataset.id).in_(chunk)))
            )
        dump = Dump()
        for i in ids:
            d = found.get(i)
            if d is None or d.deleted_at is not None:  # a partner's dataset it deleted
                dump.deletes.append(("datasets", str(i)))
                continue
            body = {
                "id": str(d.id),
                "iri": d.iri,
                "state": d.state.value,
                "slug": d.slug,
                "dataset_updated": format_date(d.updated_at),
                "title": d.title,
                "text": text_value(d.title, d.description, d.slug),
            }
            dump.docs.append(Document("datasets", str(d.id), body))
        return dump

    # -- subjects and everything below them -----------------------------------------------------
    def subjects(self, ids: Sequence[uuid.UUID]) -> Dump:
        dump = Dump()
        for chunk in _chunks(list(dict.fromkeys(ids))):
            dump.extend(self._subjects(chunk))
        return dump

    def _rows(self, model: type[SQLModel], key: str, ids: Sequence[uuid.UUID]) -> list[Row]:
        """Plain rows, not ORM objects: a rebuild reads millions and needs no identity map."""
        table = model.metadata.tables[str(model.__tablename__)]
        return list(
            self.session.connection().execute(sa.select(table).where(table.c[key].in_(ids)))
        )

    def _subjects(self, ids: Sequence[uuid.UUID]) -> Dump:
        subjects = {s.id: s for s in self._rows(Subject, "id", ids)}
        self._collection(s.collection_id for s in subjects.values())
        studies = _group(self._rows(ImagingStudy, "subject_id", ids))
        series = _group(self._rows(Series, "subject_id", ids))
        coded = self._coded(ids, [s.id for rows in series.values() for s in rows])
        dump = Dump()
        for sid in ids:
            subject = subjects.get(sid)
            coll = self._collections.get(subject.collection_id) if subject else None
            if subject is None or coll is None or not coll["live"] or subject.deleted_at:
                dump.deletes.append(("subjects", str(sid)))
                dump.deletes += _refs("studies", studies.get(sid, []))
                dump.deletes += _refs("series", series.get(sid, []))
                continue
            dump.extend(
                _subject_docs(subject, coll, studies.get(sid, []), series.get(sid, []), coded)
            )
        return dump

    def _coded(
        self, subject_ids: Sequence[uuid.UUID], series_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, _Coded]:
        """Coded values of the subjects and of their series, by record id.

        Looked up by entity id, never through a join on series: without table statistics SQLite
        would walk every series coding of the catalogue for each chunk.
        """
        columns = (
            col(CodedValue.entity_id),
            col(CodedValue.field),
            col(CodedValue.original_value),
            col(CodedValue.concept_iri),
            col(CodedValue.label),
            sa.type_coerce(col(CodedValue.ancestors), sa.String),  # parsed once per distinct list
        )
        queries = [("subject", subject_ids)] + [("series", c) for c in _chunks(series_ids)]
        out: dict[uuid.UUID, _Coded] = defaultdict(_Coded)
        for entity_type, entity_ids in queries:
            of_type = col(CodedValue.entity_type) == entity_type
            query = sa.select(*columns).where(of_type, col(CodedValue.entity_id).in_(entity_ids))
            for entity, name, original, iri, label, up in self.session.connection().execute(query):
                if name in CONCEPT_FIELDS:
                    out[entity].add(name, original, iri, label, _ancestors(up))
        return out


def _subject_docs(
    subject: Row,
    coll: dict[str, Any],
    studies: list[Row],
    series: list[Row],
    coded: dict[uuid.UUID, _Coded],
) -> Dump:
    dump = Dump()
    tree = _live_tree(studies, series, dump)
    own = coded.get(subject.id, _Coded())
    subj = _subject_fields(subject, coll, own, tree)
    above = _join(coll["title_text"], text_value(subject.group, subject.strain, *own.labels))
    nested, words = [], [above]
    for study, rows in tree:
        node, docs = _study_docs(study, [_series_node(s, coded) for s in rows], subj, above)
        nested.append(node)
        words.append(node.pop("_words"))
        dump.docs += docs
    body = {**subj, "text": _join(*words), "studies": nested}
    dump.docs.insert(0, _doc("subjects", subject, body))
    return dump


def _live_tree(studies: list[Row], series: list[Row], dump: Dump) -> list[tuple[Row, list[Row]]]:
    """Live studies with their live series, by id; the rest become deletions."""
    live = {s.id: s for s in studies if s.deleted_at is None}
    dump.deletes += _refs("studies", [s for s in studies if s.id not in live])
    rows: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for s in series:
        if s.deleted_at is None and s.study_id in live:
            rows[s.study_id].append(s)
        else:
            dump.deletes.append(("series", str(s.id)))
    ordered = sorted(live.values(), key=lambda s: str(s.id))
    return [(st, sorted(rows.get(st.id, []), key=lambda s: str(s.id))) for st in ordered]


def _subject_fields(
    subject: Row,
    coll: dict[str, Any],
    own: _Coded,
    tree: list[tuple[Row, list[Row]]],
) -> dict[str, Any]:
    return {
        "site": coll["site"],
        "collection": coll["collection"],
        "visibility": coll["visibility"],
        "sex": subject.sex.value,
        "birth_year": subject.birth_year,
        "group": _clean(subject.group),
        "strain": _clean(subject.strain),
        **own.fields(Level.SUBJECT),
        "study_count": len(tree),
        "series_count": sum(len(rows) for _, rows in tree),
        "first_seen": format_date(subject.first_seen_at),
    }


def _study_docs(
    study: Row, rows: list[dict[str, Any]], subj: dict[str, Any], above: str
) -> tuple[dict[str, Any], list[Document]]:
    """The study nested in its subject, the study's document and its series' documents."""
    fields = {"study_year": study.year, "age_years": study.age_years}
    own = _join(above, text_value(study.description))
    nested_series = [
        {"id": r["id"], "iri": r["iri"], **fields, **r["fields"], "text": _join(own, r["words"])}
        for r in rows
    ]
    text = _join(own, *(r["words"] for r in rows))
    ids = {"id": str(study.id), "iri": study.iri}
    node = {
        **ids,
        **fields,
        "text": text,
        "series": nested_series,
        "_words": _join(text_value(study.description), *(r["words"] for r in rows)),
    }
    docs = [
        Document(
            "studies",
            str(study.id),
            {**ids, **subj, **fields, "text": text, "series": nested_series},
        )
    ]
    docs += [Document("series", n["id"], {**subj, **n}) for n in nested_series]
    return node, docs


def _series_node(s: Row, coded: dict[uuid.UUID, _Coded]) -> dict[str, Any]:
    mine = coded.get(s.id, _Coded())
    fields: dict[str, Any] = {name: getattr(s, name) for name in SERIES_NUMBERS}
    fields.update(
        contrast_agent=s.contrast_agent,
        annotations=s.annotations,
        manufacturer=_clean(s.manufacturer),
        model_name=_clean(s.model_name),
        image_type=sorted({v for v in s.image_type if v}),
        sop_class_uids=sorted({v for v in s.sop_class_uids if v}),
        **mine.fields(Level.SERIES, {"modality": s.modality, "body_part": s.body_part}),
    )
    parts = (*(getattr(s, n) for n in SERIES_TEXT), s.modality, s.body_part, *mine.labels)
    return {"id": str(s.id), "iri": s.iri, "fields": fields, "words": text_value(*parts)}


def _join(*words: str) -> str:
    """Already-normalised word strings, joined."""
    return " ".join(w for w in words if w)


def _doc(kind: Kind, row: Row, body: dict[str, Any]) -> Document:
    return Document(kind, str(row.id), {"id": str(row.id), "iri": row.iri, **body})


def _refs(kind: Kind, rows: Iterable[Row]) -> list[DocRef]:
    return [(kind, str(r.id)) for r in rows]


def _group(rows: Iterable[Row]) -> dict[uuid.UUID, list[Row]]:
    out: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for row in rows:
        out[row.subject_id].append(row)
    return out


def _chunks(items: Sequence[_T], size: int = CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def dump_all(store: Store, batch: int = CHUNK) -> Iterator[Dump]:
    """Every document of the catalogue, a batch of subjects at a time (for rebuilds)."""
    with store.session() as session:
        dumper = Dumper(session)
        coll_ids = list(session.exec(select(Collection.id)))
        yield dumper.collections(coll_ids)
        yield dumper.datasets(list(session.exec(select(Dataset.id))))
        last: uuid.UUID | None = None
        while True:
            query = select(Subject.id).order_by(col(Subject.id)).limit(batch)
            if last is not None:
                query = query.where(col(Subject.id) > last)
            ids = list(session.exec(query))
            if not ids:
                return
            last = ids[-1]
            dump = dumper.subjects(ids)
            dump.deletes = []  # a fresh index holds nothing to delete
            yield dump
            session.expunge_all()


def count_subjects(store: Store) -> int:
    with store.session() as session:
        return int(session.exec(select(sa.func.count()).select_from(Subject)).one())
