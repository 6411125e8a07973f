"""Read OBO flat files with pronto (imported only when an OBO file is configured)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ontology._records import FileContent, SchemeRecord, TermRecord
from ontology.errors import OntologyError

_OBO = "http://purl.obolibrary.org/obo/"
_PART_OF = {"part_of", "BFO:0000050"}


def read_obo(path: Path) -> FileContent:
    """Terms with names, synonyms, is_a and part_of parents; OBO ids become OBO PURLs."""
    from pronto.ontology import Ontology as Pronto  # deferred: only OBO users pay for it

    try:
        # pronto warns about constructs it skips; they do not make the file unusable
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onto = Pronto(str(path))
    except SyntaxError as e:
        raise OntologyError(path, e.lineno, f"OBO syntax error: {e.msg}") from e
    except (OSError, ValueError, KeyError) as e:
        raise OntologyError(path, None, f"cannot read OBO: {e}") from e
    spaces = {prefix: url for prefix, (url, _) in onto.metadata.idspaces.items()}
    scheme = _OBO + f"{onto.metadata.ontology or path.stem}.owl"
    terms = [_term(t, spaces, scheme) for t in onto.terms() if not t.obsolete]
    title = onto.metadata.ontology or path.stem
    record = SchemeRecord(scheme, title, onto.metadata.data_version or "")
    prefixes = {p: _namespace(p, spaces) for p in {t.id.split(":")[0] for t in onto.terms()}}
    return FileContent(
        tuple(sorted(terms, key=lambda t: t.iri)),
        (record,),
        tuple(sorted((p, ns) for p, ns in prefixes.items() if ":" not in p)),
    )


def _namespace(prefix: str, spaces: dict[str, str]) -> str:
    return spaces.get(prefix) or f"{_OBO}{prefix}_"


def _iri(obo_id: str, spaces: dict[str, str]) -> str:
    prefix, sep, local = obo_id.partition(":")
    if not sep:
        return _OBO + obo_id
    if prefix in ("http", "https"):
        return obo_id
    return _namespace(prefix, spaces) + local


def _term(term: Any, spaces: dict[str, str], scheme: str) -> TermRecord:
    label = term.name or term.id
    exact = {s.description for s in term.synonyms if s.scope == "EXACT"} - {label}
    loose = {s.description for s in term.synonyms if s.scope != "EXACT"} - exact - {label}
    parents = {_iri(p.id, spaces) for p in term.superclasses(distance=1, with_self=False)}
    for relation, targets in term.relationships.items():
        if relation.id in _PART_OF or relation.name == "part of":
            parents.update(_iri(t.id, spaces) for t in targets)
    iri = _iri(term.id, spaces)
    return TermRecord(
        iri=iri,
        label=label,
        synonyms=tuple(sorted(exact)),
        hidden=tuple(sorted(loose)),
        parents=tuple(sorted(parents - {iri})),
        schemes=(scheme,),
    )
