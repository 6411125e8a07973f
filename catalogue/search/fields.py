"""The index schema: every searchable field, the level it lives on, and its type.

Query validation, the dumper and both backends read this one table, so a field added here is
validated, dumped, mapped (Elasticsearch) and given a column (embedded) in one place.
Field names are unique across levels: a name says where the value lives.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal


class Level(enum.StrEnum):
    COLLECTION = "collection"
    SUBJECT = "subject"
    STUDY = "study"
    SERIES = "series"
    DATASET = "dataset"


class FieldType(enum.StrEnum):
    KEYWORD = "keyword"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"  # ISO 8601 UTC, millisecond precision


@dataclass(frozen=True)
class Field:
    name: str
    level: Level
    type: FieldType
    multi: bool = False  # a list of values (keywords only)
    description: str = ""

    @property
    def numeric(self) -> bool:
        return self.type in {FieldType.INTEGER, FieldType.FLOAT}

    @property
    def ordered(self) -> bool:
        """Ranges and histograms make sense on it."""
        return self.numeric or self.type is FieldType.DATE


Kind = Literal["subjects", "studies", "series", "collections", "datasets"]
KINDS: tuple[Kind, ...] = ("subjects", "studies", "series", "collections", "datasets")
ROOT_LEVEL: dict[Kind, Level] = {
    "subjects": Level.SUBJECT,
    "studies": Level.STUDY,
    "series": Level.SERIES,
    "collections": Level.COLLECTION,
    "datasets": Level.DATASET,
}

# Coded fields: the site's raw values, the mapped concepts, and the concepts with their ancestors
# (so a concept filter matches descendants without walking a graph at query time).
CONCEPT_FIELDS: dict[str, Level] = {
    "modality": Level.SERIES,
    "body_part": Level.SERIES,
    "sequence_type": Level.SERIES,
    "diagnosis": Level.SUBJECT,
    "species": Level.SUBJECT,
}

_K, _I, _F, _B, _D = (
    FieldType.KEYWORD,
    FieldType.INTEGER,
    FieldType.FLOAT,
    FieldType.BOOLEAN,
    FieldType.DATE,
)
_PLAIN: list[Field] = [
    Field("site", Level.COLLECTION, _K, description="slug of the site holding the collection"),
    Field("collection", Level.COLLECTION, _K, description="id of the collection"),
    Field("visibility", Level.COLLECTION, _K),
    Field("sex", Level.SUBJECT, _K),
    Field("birth_year", Level.SUBJECT, _I),
    Field("group", Level.SUBJECT, _K, description="study arm, e.g. patient, control"),
    Field("strain", Level.SUBJECT, _K),
    Field("study_count", Level.SUBJECT, _I),
    Field("series_count", Level.SUBJECT, _I),
    Field("first_seen", Level.SUBJECT, _D, description="when the subject was first harvested"),
    Field("study_year", Level.STUDY, _I),
    Field("age_years", Level.STUDY, _F, description="age at the study"),
    Field("contrast_agent", Level.SERIES, _B),
    Field("manufacturer", Level.SERIES, _K),
    Field("model_name", Level.SERIES, _K),
    Field("field_strength_t", Level.SERIES, _F),
    Field("slice_thickness_mm", Level.SERIES, _F),
    Field("repetition_time_ms", Level.SERIES, _F),
    Field("echo_time_ms", Level.SERIES, _F),
    Field("inversion_time_ms", Level.SERIES, _F),
    Field("flip_angle_deg", Level.SERIES, _F),
    Field("image_type", Level.SERIES, _K, multi=True),
    Field("sop_class_uids", Level.SERIES, _K, multi=True),
    Field("annotations", Level.SERIES, _B, description="SEG, RTSTRUCT or SR present"),
    Field("instance_count", Level.SERIES, _I),
    Field("year", Level.SERIES, _I, description="year of acquisition"),
    Field("state", Level.DATASET, _K),
    Field("slug", Level.DATASET, _K),
    Field("dataset_updated", Level.DATASET, _D),
]


def _concept_fields() -> list[Field]:
    out: list[Field] = []
    for name, level in CONCEPT_FIELDS.items():
        out += [
            Field(name, level, _K, multi=True, description="the site's original values"),
            Field(f"{name}_concept", level, _K, multi=True, description="mapped concept IRIs"),
            Field(f"{name}_closure", level, _K, multi=True, description="concepts and ancestors"),
        ]
    return out


FIELDS: dict[str, Field] = {f.name: f for f in [*_PLAIN, *_concept_fields()]}

# Which levels' fields a document of each kind carries at its root (ancestors are copied down).
ROOT_FIELDS: dict[Kind, frozenset[Level]] = {
    "subjects": frozenset({Level.COLLECTION, Level.SUBJECT}),
    "studies": frozenset({Level.COLLECTION, Level.SUBJECT, Level.STUDY}),
    "series": frozenset({Level.COLLECTION, Level.SUBJECT, Level.STUDY, Level.SERIES}),
    "collections": frozenset({Level.COLLECTION}),
    "datasets": frozenset({Level.DATASET}),
}
# Nested scopes: a study inside a subject; a series (with its study's fields) inside either.
NESTED_FIELDS: dict[Level, frozenset[Level]] = {
    Level.STUDY: frozenset({Level.STUDY}),
    Level.SERIES: frozenset({Level.STUDY, Level.SERIES}),
}


def fields_of(levels: frozenset[Level]) -> list[Field]:
    return [f for f in FIELDS.values() if f.level in levels]


# -- text --------------------------------------------------------------------------------------
MAX_TOKEN = 64
_WORD = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[str]:
    """Words of a text as both engines index them: accents stripped, case folded, split on
    anything that is not a letter or digit. The dumper and the query use this one function and
    the engines only split on spaces (ES `whitespace`, FTS5 `ascii`), so they see the same words.
    """
    return list(_words(text))


@functools.lru_cache(maxsize=65_536)  # descriptions and labels repeat across millions of series
def _words(text: str) -> tuple[str, ...]:
    if text.isascii():
        plain = text.lower()
    else:
        folded = unicodedata.normalize("NFKD", text).casefold()
        plain = "".join(c for c in folded if not unicodedata.combining(c))
    return tuple(w for w in _WORD.findall(plain) if len(w) <= MAX_TOKEN)


def text_value(*parts: str | None) -> str:
    return " ".join(w for part in parts if part for w in _words(part))
