"""``python -m ontology._generate [DIR]``: write the bundled vocabularies and their load index."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ontology import _index
from ontology._generate import dicom, icd, sequence, species, turtle
from ontology._generate.model import Vocabulary
from ontology._load import BUNDLED, DATA
from ontology._records import FileContent, SchemeRecord

BUILDERS: tuple[Callable[[], Vocabulary], ...] = (
    dicom.modalities,
    dicom.anatomy,
    sequence.sequences,
    species.species,
    icd.icd10who,
    icd.icd10cm,
)


def content(v: Vocabulary) -> FileContent:
    """The load index of a vocabulary, built from the same rows that were written as Turtle."""
    schemes = [SchemeRecord(v.scheme, v.title, v.version)]
    schemes += [SchemeRecord(iri, title, v.version) for iri, title in v.extra_schemes.items()]
    return FileContent(
        terms=tuple(c.record() for _, c in sorted(v.concepts.items())),
        schemes=tuple(sorted(schemes, key=lambda s: s.iri)),
        prefixes=tuple(sorted(turtle.PREFIXES.items())),
    )


def generate(directory: Path) -> list[Path]:
    """Write every bundled file into `directory` (and its `index/`); return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    gc.disable()  # a million short-lived objects: the collector would run thousands of times
    try:
        for build in BUILDERS:
            written += _one(build(), directory)
    finally:
        gc.enable()
    assert sorted(p.name for p in written[::2]) == sorted(BUNDLED)
    return written


def _one(v: Vocabulary, directory: Path) -> list[Path]:
    path, data = turtle.write(v, directory)
    index = directory / "index" / _index.cache_name(path, bundled=True)
    _index.write(index, content(v), _index.content_hash(data))
    return [path, index]


def main(argv: list[str]) -> None:
    start = time.perf_counter()
    for path in generate(Path(argv[0]) if argv else DATA):
        print(f"{path}  {path.stat().st_size:,} bytes")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
