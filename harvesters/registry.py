"""Installed harvesters, found through the entry-point group `catalogue.harvesters`.

A third party adds a source kind by shipping a package that declares
`[project.entry-points."catalogue.harvesters"] my-kind = "my_pkg:MyHarvester"`.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from catalogue.errors import ConfigurationError
from harvesters.base import Harvester

ENTRY_POINT_GROUP = "catalogue.harvesters"


def installed() -> dict[str, type[Harvester[Any]]]:
    """Every installed harvester by kind; a broken plug-in is a configuration error."""
    found: dict[str, type[Harvester[Any]]] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[point.name] = point.load()
        except Exception as exc:  # any import failure of a plug-in
            raise ConfigurationError(
                f"harvester {point.name!r} ({point.value}) cannot be loaded: {exc}"
            ) from exc
    return found


def config_models() -> dict[str, type[BaseModel]]:
    return {kind: harvester.Config for kind, harvester in installed().items()}


def fields_table(config: type[BaseModel]) -> str:
    """A Markdown table of a harvester's source fields, for its documentation page."""
    rows = ["| field | required | default | meaning |", "|---|---|---|---|"]
    for name, field in config.model_fields.items():
        if field.is_required():
            default = ""
        elif field.default_factory is not None:
            default = "(computed)"  # e.g. the machine's CPU count: not a constant to print
        else:
            default = f"`{_shown(field.get_default())}`"
        required = "yes" if field.is_required() else ""
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}` | {required} | {default} | {meaning} |")
    return "\n".join(rows)


def _shown(value: Any) -> str:
    if hasattr(value, "value"):  # enums
        return str(value.value)
    return "none" if value is None else str(value)
