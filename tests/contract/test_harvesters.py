"""Every installed harvester, and the runner's scripted test source, pass the contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harvesters.base import HarvestContext, Harvester
from harvesters.registry import installed
from tests.contract.harvesters import Make, check_contract
from tests.harvesters.scripted import ScriptedHarvester, items

Prepare = Callable[[pytest.FixtureRequest, Path], tuple[dict[str, Any], dict[str, Any]]]


def _scripted(_request: pytest.FixtureRequest, tmp: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    path = tmp / "items.json"
    path.write_text(json.dumps(items()))
    return {"items_file": str(path)}, {"items_file": str(tmp / "missing.json")}


#: How to prepare a reachable source (and a broken configuration) for each kind.
PREPARE: dict[str, Prepare] = {"scripted": _scripted}
KINDS: dict[str, type[Harvester[Any]]] = {"scripted": ScriptedHarvester, **installed()}


def test_every_installed_kind_is_covered() -> None:
    assert set(installed()) <= set(PREPARE)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_contract(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    good, broken = PREPARE[kind](request, tmp_path)
    cls = KINDS[kind]

    def make(options: dict[str, Any]) -> Make:
        context = HarvestContext(source="contract", site="local")
        return lambda: cls(cls.Config.model_validate(options), context)

    check_contract(make(good), make(broken))
