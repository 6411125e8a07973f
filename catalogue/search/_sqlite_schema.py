"""Tables of the embedded index, generated from the field registry.

One row per subject, study, series, collection and dataset. Series rows carry their study's
fields (as the nested series of the Elasticsearch documents do). A multi-valued field is one
integer column naming an interned *set* of values (`sets` / `members`), so "any value equals X"
is `column IN (sets holding X)` and a facet expands sets to values with one join.
Each table has an FTS5 twin (`<table>_fts`, rowid = the row's `rid`) holding the document text.
"""

from __future__ import annotations

import functools

from catalogue.search.fields import FIELDS, Field, FieldType, Kind, Level

SCHEMA_VERSION = "5"
TABLE: dict[Kind, str] = {
    "subjects": "subjects",
    "studies": "studies",
    "series": "series",
    "collections": "collections",
    "datasets": "datasets",
}
LEVELS: dict[str, tuple[Level, ...]] = {
    "collections": (Level.COLLECTION,),
    "subjects": (Level.COLLECTION, Level.SUBJECT),
    "studies": (Level.STUDY,),
    "series": (Level.STUDY, Level.SERIES),
    "datasets": (Level.DATASET,),
}
PARENTS: dict[str, tuple[str, ...]] = {"studies": ("subject",), "series": ("subject", "study")}
_SQL_TYPE = {
    FieldType.KEYWORD: "TEXT",
    FieldType.INTEGER: "INTEGER",
    FieldType.FLOAT: "REAL",
    FieldType.BOOLEAN: "INTEGER",
    FieldType.DATE: "TEXT",
}
# Series predicates usually pair a coded value with a number or flag ("FLAIR at 3 T", "T1 with
# contrast", "CT of the head"): covering indexes led by the coded column answer them without
# reading series rows (and hold the parent keys the semi-joins select).
INDEXED: dict[str, list[tuple[str, ...]]] = {
    "subjects": [("collection",)],
    # a subject's study-level histograms (age at study) read this index alone
    "studies": [("subject", "age_years", "study_year")],
    "series": [
        ("subject",),
        ("study",),
        ("sequence_type_closure", "field_strength_t", "contrast_agent", "subject", "study"),
        ("modality_closure", "body_part_closure", "subject", "study"),
        ("body_part_closure", "modality_closure", "subject", "study"),
    ],
}


# Subjects and studies also hold, per series keyword field, the set of values over all their
# series: "has a series with modality MR" and a facet on modality then read one row per subject
# instead of joining its series (exact: a set union is what "any series" asks).
# Numeric series fields with few distinct values (scanner settings, years) are rolled up too, for
# facets only: a filter compares numbers, not the text a set holds.
FEW_VALUES = frozenset({"field_strength_t", "slice_thickness_mm", "year"})
ROLLED = frozenset(
    f.name
    for f in FIELDS.values()
    if f.level is Level.SERIES
    and (f.type in {FieldType.KEYWORD, FieldType.BOOLEAN} or f.name in FEW_VALUES)
)
ROLLED_FILTERS = ROLLED - FEW_VALUES
ROLLUP_TABLES = ("subjects", "studies")


# Subjects also name their collection by an interned set of that one id: per-collection counts
# group on a small integer instead of the id's text (sorting 100,000 rows on it is faster).
GROUP_KEY = "collection_key"


def keyed(table: str) -> tuple[str, ...]:
    return (GROUP_KEY,) if table == "subjects" else ()


def rollup(name: str) -> str:
    return f"any_{name}"


def rolled(table: str) -> tuple[str, ...]:
    return tuple(sorted(ROLLED)) if table in ROLLUP_TABLES else ()


def member(value: object) -> str:
    """How a value is kept in a set (sets hold text; flags are "true" and "false")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def q(name: str) -> str:
    """A quoted identifier (field names such as `group` are SQL keywords)."""
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def columns(table: str) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS.values() if f.level in LEVELS[table])


def ddl() -> list[str]:
    statements = [
        "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE sets(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE)",
        "CREATE TABLE members(value TEXT NOT NULL, set_id INTEGER NOT NULL,"
        " PRIMARY KEY (value, set_id)) WITHOUT ROWID",
        "CREATE INDEX members_set ON members(set_id, value)",
    ]
    for table in LEVELS:
        cols = ["rid INTEGER PRIMARY KEY", "id TEXT NOT NULL UNIQUE", "iri TEXT"]
        cols += [f"{parent} INTEGER NOT NULL" for parent in PARENTS.get(table, ())]
        cols += [
            f"{q(f.name)} {'INTEGER' if f.multi else _SQL_TYPE[f.type]}" for f in columns(table)
        ]
        cols += [f"{q(rollup(name))} INTEGER" for name in rolled(table)]
        cols += [f"{q(name)} INTEGER" for name in keyed(table)]
        statements.append(f"CREATE TABLE {table}({', '.join(cols)})")
        statements.append(
            f"CREATE VIRTUAL TABLE {table}_fts USING fts5(text, tokenize='ascii', detail='none')"
        )
    return statements


def indexes() -> list[str]:
    """Secondary indexes, created after a bulk load (faster than maintaining them during it)."""
    return [
        f"CREATE INDEX IF NOT EXISTS {table}_{'_'.join(cols)} ON {table}({', '.join(map(q, cols))})"
        for table, indexed in INDEXED.items()
        for cols in indexed
    ]
