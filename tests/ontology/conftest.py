"""The ontology with its bundled vocabularies, loaded once for the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ontology import Ontology

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture(scope="session")
def onto() -> Ontology:
    return Ontology.load()
