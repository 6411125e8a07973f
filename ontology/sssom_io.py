"""SSSOM mapping tables: read them (sssom library) into a look-up, and export mapping results.

The sssom library takes about seven seconds to import (pandas, linkml), so it is imported only
when a table is read or written. It drops malformed rows with a log message and no position,
so each data row is also checked here, against the file's own line numbers.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ontology.errors import OntologyError
from ontology.normalise import normalise

# Confidence when a row gives none, by predicate; other predicates are not used for mapping.
PREDICATE_CONFIDENCE = {
    "skos:exactMatch": 0.95,
    "owl:equivalentClass": 0.95,
    "skos:closeMatch": 0.8,
    "skos:narrowMatch": 0.7,  # the value is narrower: its concept's ancestors still hold
    "skos:broadMatch": 0.5,
}
_REQUIRED = ("predicate_id", "object_id", "mapping_justification")


@dataclass(frozen=True, slots=True)
class TableRow:
    subject_id: str
    subject_label: str
    predicate: str
    object_iri: str
    justification: str
    confidence: float
    source: str  # "path:line"


@contextmanager
def quiet_sssom() -> Iterator[None]:
    # sssom 0.4 uses pandas APIs that pandas 3 deprecates (an option at import, inplace=True):
    # the warnings are raised from sssom's own frames, so filter those frames only.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*copy_on_write.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"sssom\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"sssom\.")
        yield


def read_table(path: Path) -> list[TableRow]:
    """Rows of one SSSOM/TSV file whose predicate we can use, each with its line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise OntologyError(path, None, f"cannot read: {e.strerror or e}") from e
    msdf = _parse(path, text)
    lines = list(_data_lines(text))
    rows = msdf.df.to_dict("records")
    for line, raw in lines:
        _check(path, line, raw, msdf)
    if len(rows) != len(lines):
        raise OntologyError(path, None, f"sssom kept {len(rows)} of {len(lines)} rows")
    return [
        r for (line, _), row in zip(lines, rows, strict=True) if (r := _row(path, line, row, msdf))
    ]


def _parse(path: Path, text: str) -> Any:
    with quiet_sssom():
        from sssom.parsers import parse_sssom_table
        from yaml import MarkedYAMLError

        try:
            return parse_sssom_table(io.StringIO(text), sep="\t")
        except MarkedYAMLError as e:
            line = _yaml_line(text, e.problem_mark.line if e.problem_mark else None)
            raise OntologyError(path, line, f"metadata header: {e.problem}") from e
        except Exception as e:  # sssom raises assorted types (ValueError, KeyError, pandas errors)
            raise OntologyError(path, None, f"not a valid SSSOM table: {e}") from e


def _yaml_line(text: str, yaml_line: int | None) -> int | None:
    """File line of the n-th YAML line: sssom joins the non-empty '#' lines into one document."""
    if yaml_line is None:
        return None
    header = [n for n, raw in enumerate(text.splitlines(), 1) if raw.startswith("#")]
    kept = [n for n in header if text.splitlines()[n - 1].lstrip("#").rstrip()]
    return kept[yaml_line] if yaml_line < len(kept) else (kept[-1] if kept else 1)


def _data_lines(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, cells by column) for each data row after the '#' header and column names."""
    body = [(n, raw) for n, raw in enumerate(text.splitlines(), 1) if not raw.startswith("#")]
    if not body:
        return
    names = body[0][1].split("\t")
    for n, raw in body[1:]:
        if raw.strip():
            cells = next(csv.reader([raw], delimiter="\t"))
            yield n, dict(zip(names, cells, strict=False))


def _check(path: Path, line: int, raw: dict[str, str], msdf: Any) -> None:
    def value(slot: str) -> str:
        return (raw.get(slot) or str(msdf.metadata.get(slot) or "")).strip()

    for slot in _REQUIRED:
        if not value(slot):
            raise OntologyError(path, line, f"missing {slot}")
    if not value("subject_id") and not value("subject_label"):
        raise OntologyError(path, line, "needs subject_id or subject_label")
    if _expand(msdf, value("object_id")) is None:
        raise OntologyError(path, line, f"object_id {value('object_id')!r}: undeclared prefix")
    if not value("mapping_justification").startswith("semapv:"):
        raise OntologyError(path, line, "mapping_justification must be a semapv: term")
    confidence = value("confidence")
    try:
        ok = not confidence or 0.0 <= float(confidence) <= 1.0
    except ValueError:
        ok = False
    if not ok:
        raise OntologyError(path, line, f"confidence {confidence!r} is not a number from 0 to 1")


def _expand(msdf: Any, curie: str) -> str | None:
    if curie.startswith(("http://", "https://")):
        return curie
    expanded: str | None = msdf.converter.expand(curie)
    return expanded


def _row(path: Path, line: int, row: dict[str, Any], msdf: Any) -> TableRow | None:
    predicate = str(row.get("predicate_id") or "")
    if predicate not in PREDICATE_CONFIDENCE or str(row.get("predicate_modifier") or "") == "Not":
        return None
    if str(row.get("object_id")) == "sssom:NoTermFound":
        return None
    confidence = row.get("confidence")
    has_confidence = isinstance(confidence, int | float | str) and str(confidence) not in (
        "",
        "nan",
    )
    return TableRow(
        subject_id=str(row.get("subject_id") or ""),
        subject_label=str(row.get("subject_label") or ""),
        predicate=predicate,
        object_iri=_expand(msdf, str(row["object_id"])) or "",
        justification=str(row.get("mapping_justification") or ""),
        confidence=float(confidence) if has_confidence else PREDICATE_CONFIDENCE[predicate],  # type: ignore[arg-type]
        source=f"{path}:{line}",
    )


class TableIndex:
    """Rows of every configured table by subject id and by normalised subject label."""

    def __init__(self, rows: Iterable[TableRow] = ()) -> None:
        self._by_id: dict[str, list[TableRow]] = {}
        self._by_label: dict[str, list[TableRow]] = {}
        for row in rows:
            if row.subject_id:
                self._by_id.setdefault(row.subject_id, []).append(row)
            if row.subject_label:
                self._by_label.setdefault(normalise(row.subject_label), []).append(row)

    def __bool__(self) -> bool:
        return bool(self._by_id or self._by_label)

    def lookup(self, value: str, key: str) -> list[TableRow]:
        """Rows for a value given as a subject id, else by its label; most confident first."""
        rows = self._by_id.get(value.strip()) or self._by_label.get(key) or []
        return sorted(rows, key=lambda r: -r.confidence)
