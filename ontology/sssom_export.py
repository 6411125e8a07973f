"""Export mapping results as an SSSOM/TSV mapping set (written by the sssom library).

Each row says: the value a site wrote (a literal, with an IRI of ours so SSSOM has a subject id)
maps to a concept, with a predicate, a semapv justification per method and a confidence.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from ontology import vocab
from ontology.mapping import Mapping
from ontology.prefixes import PrefixMap
from ontology.sssom_io import quiet_sssom

VALUE_PREFIX = "icvalue"
_FIXED_PREFIXES = {
    "semapv": vocab.SEMAPV,
    "skos": vocab.SKOS,
    "owl": vocab.OWL,
    "rdfs": vocab.RDFS,
    "sssom": "https://w3id.org/sssom/",
}
_MATCH_FIELD = {"exact-code": "skos:notation", "label": "rdfs:label"}


def export(
    mappings: list[Mapping],
    path: Path,
    prefixes: PrefixMap,
    *,
    mapping_set_id: str = vocab.PROJECT + "mappings.sssom.tsv",
    license: str = "https://creativecommons.org/publicdomain/zero/1.0/",
    title: str = "Field-value mappings of an imaging catalogue node",
    mapping_date: str | None = None,
    value_namespace: str = vocab.PROJECT + "value/",
    include_unmapped: bool = False,
) -> None:
    """Write `mappings` (deduplicated, sorted by field and value) to `path` as SSSOM/TSV.

    Unmapped values are left out unless `include_unmapped`, then they map to sssom:NoTermFound.
    """
    curie_map = {**_FIXED_PREFIXES, VALUE_PREFIX: value_namespace}
    rows = []
    unique = {(m.field, m.value): m for m in mappings if m.mapped or include_unmapped}
    for _, mapping in sorted(unique.items()):
        rows.append(_row(mapping, prefixes, curie_map))
    metadata: dict[str, Any] = {
        "mapping_set_id": mapping_set_id,
        "license": license,
        "mapping_set_title": title,
        "mapping_tool": "imaging-catalogue ontology",
    }
    if mapping_date:
        metadata["mapping_date"] = mapping_date
    _write(rows, curie_map, metadata, path)


def _row(m: Mapping, prefixes: PrefixMap, curie_map: dict[str, str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "subject_id": f"{VALUE_PREFIX}:{quote(m.field, safe='')}/{quote(m.value, safe='')}",
        "subject_label": m.value,
        "subject_type": "rdfs literal",
        "predicate_id": m.predicate,
        "object_id": _object_curie(m, prefixes, curie_map),
        "object_label": m.label or "",
        "mapping_justification": m.justification,
        "confidence": m.confidence,
        "comment": f"field={m.field}; method={m.method}" + (f"; {m.source}" if m.source else ""),
    }
    if m.method in _MATCH_FIELD and m.mapped:
        row["subject_match_field"] = "rdfs:label"
        row["object_match_field"] = _MATCH_FIELD[m.method]
    return row


def _object_curie(m: Mapping, prefixes: PrefixMap, curie_map: dict[str, str]) -> str:
    if m.iri is None:
        return "sssom:NoTermFound"
    parts = prefixes.split(m.iri)
    if parts is None:  # an IRI under no known namespace: give it a prefix of its own
        cut = max(m.iri.rfind("/"), m.iri.rfind("#")) + 1
        namespace, local = m.iri[:cut], m.iri[cut:]
        known = {ns: p for p, ns in curie_map.items()}
        prefix = known.get(namespace) or f"ns{len(curie_map)}"
        parts = (prefix, local)
    curie_map[parts[0]] = prefixes.namespaces.get(parts[0]) or m.iri[: -len(parts[1])]
    return f"{parts[0]}:{parts[1]}"


def _write(
    rows: list[dict[str, Any]], curie_map: dict[str, str], meta: dict[str, Any], path: Path
) -> None:
    with quiet_sssom():
        import pandas as pd  # type: ignore[import-untyped]
        from curies import Converter
        from sssom.util import MappingSetDataFrame
        from sssom.writers import write_table

        columns = list(dict.fromkeys(k for row in rows for k in row)) or ["subject_id"]
        frame = pd.DataFrame(rows, columns=columns)
        converter = Converter.from_prefix_map(dict(sorted(curie_map.items())))
        msdf = MappingSetDataFrame.with_converter(converter, frame, meta)
        with path.open("w", encoding="utf-8") as out:
            write_table(msdf, out)
