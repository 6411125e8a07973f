"""A hub harvests a node of our own through its public OAI-PMH provider and DCAT-AP catalogue:
the partner harvesters read what the exports write, over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from api.app import create_app
from catalogue.records import DatasetRecord
from catalogue.settings import Settings
from catalogue.store import Store
from harvesters.base import HarvestContext
from harvesters.dcat.harvester import DcatConfig, DcatHarvester
from harvesters.oaipmh.harvester import OaiPmhConfig, OaiPmhHarvester
from tests.exports.conftest import publish
from tests.harvesters.orthanc import free_ports

CONCEPT_DOI = "10.80001/glioma-mri"


@pytest.fixture
def node(settings: Settings, store: Store) -> Iterator[str]:
    """A node with one published dataset (two versions), served on a loopback port."""
    publish(store)
    port = free_ports()[0]
    config = uvicorn.Config(
        create_app(settings, store), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the node did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _context() -> HarvestContext:
    return HarvestContext(source="node", site="hub")


def test_our_oai_pmh_provider_is_harvested(node: str) -> None:
    for prefix in ("oai_datacite", "oai_dc"):
        config = OaiPmhConfig(url=f"{node}/oai", metadata_prefix=prefix)  # type: ignore[arg-type]
        h = OaiPmhHarvester(config, _context())
        h.check_connection()
        found = [i for i in h.iter_records(None) if isinstance(i, DatasetRecord)]
        assert h.report.failures == []
        assert {r.title for r in found} == {"Glioma MRI across two sites"}
        assert CONCEPT_DOI in {r.meta.get("doi") for r in found}


def test_our_dcat_catalogue_is_harvested(node: str) -> None:
    h = DcatHarvester(DcatConfig(url=f"{node}/catalog?page_size=1"), _context())
    h.check_connection()
    found = [i for i in h.iter_records(None) if isinstance(i, DatasetRecord)]
    assert h.report.failures == []
    title = "Glioma MRI across two sites"
    assert {r.title for r in found} == {title, f"{title} (version 1.0)", f"{title} (version 2.0)"}
    assert CONCEPT_DOI in {r.meta.get("doi") for r in found}
