"""Markers of the search tests (registered here: `--strict-markers` refuses unknown ones)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "outage: stops and restarts a private Elasticsearch mid-harvest (skip locally with "
        "CATALOGUE_TEST_OUTAGE=0; 35-75 s on two cores)",
    )
