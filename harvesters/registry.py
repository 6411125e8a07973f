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
