"""A compact JSON load index per vocabulary file, valid for one content hash of that file.

Parsing ICD-10-CM's Turtle with rdflib takes tens of seconds; reading this index takes a fraction
of one. The index is derived data: when the hash does not match, the file is parsed again.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ontology._records import FileContent, SchemeRecord, TermRecord

FORMAT = 1


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def cache_name(source: Path, bundled: bool) -> str:
    """Bundled files keep a fixed name; user files add a hash of their path (names may clash)."""
    if bundled:
        return f"{source.name}.index.json.gz"
    where = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    return f"{source.name}.{where}.index.json.gz"


def encode(content: FileContent, digest: str) -> bytes:
    """Deterministic bytes: sorted keys and rows, gzip without a timestamp."""
    doc = {
        "format": FORMAT,
        "sha256": digest,
        "prefixes": [list(p) for p in content.prefixes],
        "schemes": [[s.iri, s.title, s.version] for s in content.schemes],
        "terms": [
            [t.iri, t.label, t.synonyms, t.hidden, t.parents, t.schemes, t.notations]
            for t in sorted(content.terms, key=lambda t: t.iri)
        ],
    }
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def read(path: Path, digest: str) -> FileContent | None:
    """The cached content, or None when missing, unreadable or for another version of the file."""
    try:
        doc: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    except (OSError, ValueError, EOFError):
        return None
    if doc.get("format") != FORMAT or doc.get("sha256") != digest:
        return None
    terms = tuple(
        TermRecord(i, lab, (*syn,), (*hid,), (*par,), (*sch,), (*nota,))
        for i, lab, syn, hid, par, sch, nota in doc["terms"]
    )
    schemes = tuple(SchemeRecord(*row) for row in doc["schemes"])
    return FileContent(terms, schemes, tuple((p, ns) for p, ns in doc["prefixes"]))


def write(path: Path, content: FileContent, digest: str) -> bool:
    """Write atomically; a read-only cache directory is not an error (we parse next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".index-")
        with os.fdopen(fd, "wb") as out:
            out.write(encode(content, digest))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the index is shipped and shared
        os.replace(tmp, path)
    except OSError:
        return False
    return True
