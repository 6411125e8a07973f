"""Ordered regex rules over a value and its context, declared as data (JSON).

    {"rules": [{"id": "ms", "field": "diagnosis", "when": {"value": "^MS$"},
                "concept": "ICD10WHO:G35", "confidence": 0.8}]}

Every pattern in ``when`` must match (``re.search``, case-insensitive); ``value`` is the field's
value, any other key a context field passed to ``Ontology.map`` (``series_description``...), and
``a|b`` matches when either field does. The first matching rule of the field wins.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ontology.errors import OntologyError


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    field: str
    when: tuple[tuple[str, re.Pattern[str]], ...]
    concept: str  # IRI
    confidence: float = 0.8
    source: str = ""
    line: int | None = None

    def matches(self, value: str, context: Mapping[str, object]) -> bool:
        for keys, pattern in self.when:
            texts = (value if key == "value" else context.get(key) for key in keys.split("|"))
            if not any(isinstance(t, str) and pattern.search(t) for t in texts):
                return False
        return True


def load_rules(
    path: Path, expand: Callable[[str], str | None], fields: Collection[str]
) -> list[Rule]:
    """Rules from a JSON file; `expand` turns a CURIE or IRI into a known concept IRI or None."""
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text)
    except OSError as e:
        raise OntologyError(path, None, f"cannot read: {e.strerror or e}") from e
    except json.JSONDecodeError as e:
        raise OntologyError(path, e.lineno, f"JSON error: {e.msg}") from e
    rows = doc.get("rules") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise OntologyError(path, 1, 'expected an object with a "rules" list')
    rules = [_rule(path, text, i, row, expand) for i, row in enumerate(rows)]
    for i, rule in enumerate(rules):
        if rule.field not in fields:
            raise OntologyError(path, rule.line, f"rule {i + 1}: unknown field {rule.field!r}")
    return rules


def _line_of(text: str, row: Any, index: int) -> int | None:
    """Where a rule starts: the line that names its id (JSON parsers keep no positions)."""
    rule_id = row.get("id") if isinstance(row, dict) else None
    if isinstance(rule_id, str):
        found = re.search(r'"id"\s*:\s*' + re.escape(json.dumps(rule_id)), text)
        if found:
            return text.count("\n", 0, found.start()) + 1
    return None


def _rule(path: Path, text: str, index: int, row: Any, expand: Callable[[str], str | None]) -> Rule:
    def fail(reason: str) -> OntologyError:
        return OntologyError(path, _line_of(text, row, index), f"rule {index + 1}: {reason}")

    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        raise fail('a rule is an object with a string "id"')
    when, field = row.get("when"), row.get("field")
    if not isinstance(field, str) or not isinstance(when, dict) or not when:
        raise fail('needs "field" and a non-empty "when" object')
    concept = expand(str(row.get("concept", "")))
    if concept is None:
        raise fail(f"unknown concept {row.get('concept')!r}")
    confidence = row.get("confidence", 0.8)
    if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        raise fail("confidence must be a number from 0 to 1")
    patterns = []
    for key, pattern in sorted(when.items()):
        try:
            patterns.append((str(key), re.compile(str(pattern), re.IGNORECASE)))
        except re.error as e:
            raise fail(f"bad pattern for {key!r}: {e}") from e
    line = _line_of(text, row, index)
    return Rule(row["id"], field, tuple(patterns), concept, float(confidence), str(path), line)
