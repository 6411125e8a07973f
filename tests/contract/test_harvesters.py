"""Every installed harvester, and the runner's scripted test source, pass the contract."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from api.demo.xnat_server import USERS
from api.demo.xnat_site import GeneratedSite, Sites
from harvesters.base import HarvestContext, Harvester
from harvesters.dicom.sample import write_sample_export
from harvesters.registry import installed
from tests.contract.harvesters import Make, check_contract
from tests.federation.nodes import Node
from tests.harvesters import dcat_catalogue, oai_repository, orthanc, partner_server
from tests.harvesters.bids_datasets import write_example
from tests.harvesters.scripted import ScriptedHarvester, items
from tests.harvesters.xnat_server import serve_until_finished
from tests.harvesters.xnat_site import recorded_site

Options = dict[str, Any]
Prepare = Callable[[pytest.FixtureRequest, Path], tuple[Options, Options]]
SECRET = SecretStr("a-contract-secret-of-32-characters")


def _scripted(_request: pytest.FixtureRequest, tmp: Path) -> tuple[Options, Options]:
    path = tmp / "items.json"
    path.write_text(json.dumps(items()))
    return {"items_file": str(path)}, {"items_file": str(tmp / "missing.json")}


def _folder(_request: pytest.FixtureRequest, tmp: Path) -> tuple[Options, Options]:
    write_sample_export(tmp / "export")
    common = {"collection": "Sample export", "workers": 1}
    return {"path": str(tmp / "export"), **common}, {"path": str(tmp / "nowhere"), **common}


def _orthanc(request: pytest.FixtureRequest) -> str:
    url = str(request.getfixturevalue("orthanc_url"))
    orthanc.load(url)
    return url


def _dicomweb(request: pytest.FixtureRequest, _tmp: Path) -> tuple[Options, Options]:
    url = _orthanc(request)
    closed = f"http://127.0.0.1:{orthanc.free_ports()[0]}/dicom-web"
    return (
        {"url": f"{url}/dicom-web", "collection": "Orthanc"},
        {"url": closed, "collection": "Orthanc", "timeout_s": 2},
    )


def _dimse(request: pytest.FixtureRequest, _tmp: Path) -> tuple[Options, Options]:
    _orthanc(request)
    host, port = os.environ["CATALOGUE_TEST_ORTHANC_DICOM"].rsplit(":", 1)
    common = {
        "host": host,
        "called_aet": os.environ["CATALOGUE_TEST_ORTHANC_AET"],
        "collection": "Orthanc",
        "timeout_s": 5,
    }
    return {"port": int(port), **common}, {"port": orthanc.free_ports()[0], **common}


def _xnat(request: pytest.FixtureRequest, _tmp: Path) -> tuple[Options, Options]:
    server = serve_until_finished(request, Sites((recorded_site(), GeneratedSite())))
    login = {"username": "harvester", "password": USERS["harvester"], "retry_wait_s": 0}
    return {"url": server.url, **login}, {"url": server.url, **login, "password": "wrong"}


def _bids(_request: pytest.FixtureRequest, tmp: Path) -> tuple[Options, Options]:
    return {"path": str(write_example(tmp / "bids"))}, {"path": str(tmp / "nowhere")}


def _oai_pmh(request: pytest.FixtureRequest, _tmp: Path) -> tuple[Options, Options]:
    server = partner_server.serve_for_test(request, oai_repository.example_repository())
    fast = {"retry_wait_s": 0, "timeout_s": 5}
    return {"url": f"{server.url}/oai", **fast}, {
        "url": f"{partner_server.closed_url()}/oai",
        **fast,
    }


def _dcat(request: pytest.FixtureRequest, _tmp: Path) -> tuple[Options, Options]:
    server = partner_server.serve_for_test(request, dcat_catalogue.paged_catalogue())
    fast = {"retry_wait_s": 0, "timeout_s": 5}
    return {"url": f"{server.url}/catalog", **fast}, {
        "url": f"{partner_server.closed_url()}/catalog",
        **fast,
    }


@pytest.fixture(scope="module")
def site_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real node serving its change feed: (GraphQL URL, an API key for the harvester)."""
    root = tmp_path_factory.mktemp("site-node")
    node = Node(root, "site-a")
    write_sample_export(root / "export")
    export = {"path": str(root / "export"), "collection": "Site A export", "workers": 1}
    node.write_sources([{"name": "export", "kind": "dicom-folder", **export}])
    node.harvest()
    _id, key = node.key("hub")
    node.start()
    try:
        yield node.graphql, key
    finally:
        node.stop()


def _peer(request: pytest.FixtureRequest, _tmp: Path) -> tuple[Options, Options]:
    url, key = request.getfixturevalue("site_node")
    return {"url": url, "api_key": key, "page_size": 7}, {"url": url, "api_key": "cat_x_wrong"}


#: How to prepare a reachable source (and a broken configuration) for each kind.
PREPARE: dict[str, Prepare] = {
    "scripted": _scripted,
    "dicom-folder": _folder,
    "dicomweb": _dicomweb,
    "dimse": _dimse,
    "oai-pmh": _oai_pmh,
    "dcat": _dcat,
    "bids": _bids,
    "xnat": _xnat,
    "peer": _peer,
}
NEEDS_ORTHANC = {"dicomweb", "dimse"}
KINDS: dict[str, type[Harvester[Any]]] = {"scripted": ScriptedHarvester, **installed()}


def test_every_installed_kind_is_covered() -> None:
    assert set(installed()) <= set(PREPARE)


@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=[pytest.mark.orthanc] if k in NEEDS_ORTHANC else []) for k in KINDS],
)
def test_contract(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    good, broken = PREPARE[kind](request, tmp_path)
    cls = KINDS[kind]

    def make(options: Options) -> Make:
        context = HarvestContext(source="contract", site="local", pseudonym_secret=SECRET)
        return lambda: cls(cls.Config.model_validate(options), context)

    check_contract(make(good), make(broken))
