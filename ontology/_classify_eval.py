"""The labelled evaluation set of the series classifier (`data/sequence_eval.tsv`).

Shared by the benchmark (`bench/classify_eval.py`) and the quality-gate test.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from ontology.classify import Classification, classify_series

UNKNOWN = "unknown"  # how the set spells an expected None


@dataclass(frozen=True, slots=True)
class EvalRow:
    """One labelled series; `expected_type` is a class key or "unknown"."""

    line: int
    description: str
    protocol: str
    image_type: tuple[str, ...]
    sequence_name: str
    tr: float | None
    te: float | None
    ti: float | None
    flip: float | None
    expected_type: str
    expected_contrast: str | None
    vendor_style: str
    modality: str
    held_out: bool

    def classify(self) -> Classification:
        """Run the classifier on this row's fields."""
        return classify_series(
            self.description,
            self.protocol,
            self.image_type,
            self.sequence_name,
            self.tr,
            self.te,
            self.ti,
            self.flip,
            modality=self.modality,
        )


def load_eval_rows() -> list[EvalRow]:
    """Every row of the bundled evaluation set, in file order."""
    text = (resources.files("ontology") / "data" / "sequence_eval.tsv").read_text("utf-8")
    reader = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    return list(_rows(reader))


def _rows(reader: csv.DictReader[str]) -> Iterator[EvalRow]:
    for line, row in enumerate(reader, start=2):
        yield EvalRow(
            line=line,
            description=row["description"],
            protocol=row["protocol"],
            image_type=tuple(v for v in row["image_type"].split("\\") if v),
            sequence_name=row["sequence_name"],
            tr=_number(row["tr"]),
            te=_number(row["te"]),
            ti=_number(row["ti"]),
            flip=_number(row["flip"]),
            expected_type=row["expected_type"],
            expected_contrast=row["expected_contrast"] or None,
            vendor_style=row["vendor_style"],
            modality=row["modality"] or "MR",
            held_out=row["held_out"] == "yes",
        )


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None
