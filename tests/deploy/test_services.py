"""The real servers `deploy/local/services` starts answer as the later tests need them to."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa


@pytest.mark.postgres
def test_postgres_answers(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SHOW server_version")).scalar_one()
    engine.dispose()


@pytest.mark.elasticsearch
def test_elasticsearch_8_answers(elasticsearch_url: str) -> None:
    nodes = httpx.get(f"{elasticsearch_url}/_nodes/_local", timeout=10).json()["nodes"]
    assert next(iter(nodes.values()))["version"].startswith("8.")
    health = httpx.get(f"{elasticsearch_url}/_cluster/health", timeout=10).json()
    assert health["status"] in {"green", "yellow"}


@pytest.mark.orthanc
def test_orthanc_has_the_dicomweb_plugin(orthanc_url: str) -> None:
    assert "dicom-web" in httpx.get(f"{orthanc_url}/plugins", timeout=10).json()
    studies = httpx.get(f"{orthanc_url}/dicom-web/studies", timeout=10)
    assert studies.status_code == 200
    assert isinstance(studies.json() if studies.content else [], list)
