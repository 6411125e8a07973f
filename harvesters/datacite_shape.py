"""Helpers shared by the harvesters that write DataCite-shaped metadata (the `attributes` of
DataCite JSON, as DataCite's 4.5 JSON schema has them)."""

from __future__ import annotations

import re
from typing import Any

DOI = re.compile(r"^(?:doi:|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)


def doi_of(value: str) -> str | None:
    """The bare DOI in `doi:10.x/y`, `https://doi.org/10.x/y` or `10.x/y`, else None."""
    found = DOI.match(value.strip())
    return found.group(1) if found else None


def unique(value: Any) -> Any:
    """A list without repeats, in order (the schema wants unique items); other values as given."""
    if not isinstance(value, list):
        return value
    kept: list[Any] = []
    for item in value:
        if item not in kept:
            kept.append(item)
    return kept


def compact(meta: dict[str, Any]) -> dict[str, Any]:
    """The metadata without empty fields, its lists without repeats."""
    return {key: unique(value) for key, value in meta.items() if value not in ([], None, "", {})}
