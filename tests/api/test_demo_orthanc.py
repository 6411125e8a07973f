"""`catalogue demo` with an Orthanc: east's instances uploaded through Orthanc's REST API and
harvested over DICOMweb; a second run uploads nothing and harvests nothing new. A throwaway
Orthanc of its own (the shared one's content is compared by other tests)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_demo import CATALOGUE, _rows
from tests.conftest import IN_CI
from tests.harvesters.orthanc import free_ports, orthanc_binaries

pytestmark = pytest.mark.orthanc


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binaries = orthanc_binaries()
    if binaries is None:
        reason = "the Orthanc binary or its DICOMweb plugin is not installed"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    with _orthanc(*binaries, tmp_path_factory.mktemp("orthanc")) as url:
        yield url


@contextlib.contextmanager
def _orthanc(binary: str, plugin: str, workdir: Path) -> Iterator[str]:
    http_port, dicom_port = free_ports(2)
    config = {
        "Name": "catalogue-demo-test", "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "index"), "HttpPort": http_port,
        "DicomPort": dicom_port, "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "Plugins": [plugin],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }  # fmt: skip
    (workdir / "orthanc.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        [binary, f"--logfile={workdir / 'orthanc.log'}", str(workdir / "orthanc.json")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/system", timeout=1).status_code == 200:
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError("the demo's Orthanc did not start")
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


def _demo(data_dir: Path, orthanc: str, xnat_port: int) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")}
    environment.update(COLUMNS="200", NO_COLOR="1", CATALOGUE_DEMO_ORTHANC_URL=orthanc)
    done = subprocess.run(
        [CATALOGUE, "--data-dir", str(data_dir), "demo", "--no-serve", "--scale", "0.02",
         "--xnat-port", str(xnat_port)],
        capture_output=True, text=True, env=environment, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_east_is_loaded_into_orthanc_and_harvested_over_dicomweb(
    orthanc: str, tmp_path: Path
) -> None:
    [port] = free_ports(1)
    first = _demo(tmp_path / "var", orthanc, port)
    assert "uploaded" in first and "instances" in first
    studies = httpx.get(f"{orthanc}/studies", timeout=10).json()
    east = _rows(first)["east-pacs"]
    assert east[1] == "succeeded" and int(east[3]) > len(studies)  # series, studies, subjects
    assert "east-pacs-export" not in _rows(first)
    second = _demo(tmp_path / "var", orthanc, port)
    assert "uploaded" not in second
    assert _rows(second)["east-pacs"][3:5] == ["0", "0"]  # nothing added or updated
    assert len(httpx.get(f"{orthanc}/studies", timeout=10).json()) == len(studies)
