"""Load one vocabulary file through its index cache: parse only when the file changed."""

from __future__ import annotations

import gzip
from pathlib import Path

from ontology import _index
from ontology._records import FileContent
from ontology.errors import OntologyError

DATA = Path(__file__).parent / "data"
BUNDLED_INDEX = DATA / "index"
BUNDLED = (
    "dicom-modality.ttl",
    "dicom-anatomy.ttl",
    "mr-sequence.ttl",
    "ncbitaxon-lab.ttl",
    "icd10who.ttl.gz",
    "icd10cm.ttl.gz",
)


def load_file(path: Path, cache_dir: Path | None, bundled: bool = False) -> FileContent:
    """The file's records, from the cache when its hash matches, else parsed (and cached)."""
    data = read_bytes(path)
    digest = _index.content_hash(data)
    cache = cache_dir / _index.cache_name(path, bundled) if cache_dir else None
    if cache is not None:
        cached = _index.read(cache, digest)
        if cached is not None:
            return cached
    content = _parse(path, data)
    if cache is not None:
        _index.write(cache, content, digest)
    return content


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it ends in ``.gz``."""
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.suffix.lower() == ".gz" else data
    except (OSError, EOFError) as e:
        raise OntologyError(path, None, f"cannot read: {e}") from e


def _parse(path: Path, data: bytes) -> FileContent:
    # rdflib and pronto are imported only here: a node whose indexes are current never needs them
    from ontology._rdf import read_rdf, suffix_of

    if suffix_of(path) == ".obo":
        from ontology._obo import read_obo

        return read_obo(path)
    return read_rdf(path, data)
