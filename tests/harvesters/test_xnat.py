"""The XNAT harvester against the contract server: mapping, paging, incremental runs, privacy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from api.demo.xnat_server import USERS, Options, XnatServer
from api.demo.xnat_site import GeneratedSite, Sites
from catalogue.models import Sex, Visibility
from catalogue.records import Item, Record, SeriesRecord, StudyRecord, SubjectRecord
from harvesters.base import HarvestContext
from harvesters.pseudonyms import Pseudonymiser
from harvesters.xnat.harvester import XnatConfig, XnatHarvester
from tests.harvesters.xnat_site import PHI, recorded_site

SECRET = "an-xnat-test-secret-of-32-chars!"
LOGIN = {"username": "harvester", "password": USERS["harvester"]}


@pytest.fixture
def server() -> Iterator[XnatServer]:
    with XnatServer(Sites((recorded_site(), GeneratedSite()))).running() as running:
        yield running


def harvester(url: str, **options: Any) -> XnatHarvester:
    config = XnatConfig.model_validate({"url": url, **LOGIN, "retry_wait_s": 0, **options})
    context = HarvestContext("xnat", "local", pseudonym_secret=SecretStr(SECRET))
    return XnatHarvester(config, context)


def records(h: XnatHarvester, since: str | None = None) -> list[Record]:
    items: list[Item] = list(h.iter_records(since))
    return [i for i in items if isinstance(i, Record.__args__)]


def by_id(found: list[Record]) -> dict[str, Record]:
    return {r.native_id: r for r in found}


def test_recorded_site_maps_onto_records(server: XnatServer) -> None:
    h = harvester(server.url)
    found = by_id(records(h))
    assert h.report.failures == []
    ct = found["XNAT_JPETTS_E00039/scans/3000534"]
    assert isinstance(ct, SeriesRecord)
    assert (ct.modality, ct.manufacturer, ct.model_name) == (
        "CT",
        "GE MEDICAL SYSTEMS",
        "LightSpeed16",
    )
    assert ct.image_type == ("ORIGINAL", "PRIMARY", "AXIAL") and ct.instance_count == 1
    assert ct.access_url == f"{server.url}/data/experiments/XNAT_JPETTS_E00039/scans/3000534"
    assert ct.attributes["quality"] == "usable" and ct.attributes["voxelRes_z"] == 1.25
    mr = found["NRG_E06/scans/4"]
    assert isinstance(mr, SeriesRecord)
    assert (mr.field_strength_t, mr.repetition_time_ms, mr.echo_time_ms) == (3.0, 2400.0, 3.08)
    assert (mr.inversion_time_ms, mr.flip_angle_deg, mr.year) == (1000.0, 8.0, 2006)
    assert mr.series_description == "t1_mpr_1mm_p2_pos50" and mr.sequence_name == "*tfl3d1_ns"
    study = found["XNAT_JPETTS_E00039"]
    assert isinstance(study, StudyRecord) and (study.year, study.description) == (
        1990,
        "CT session",
    )
    assert found["TEST_Viewer"].visibility is Visibility.PUBLIC  # type: ignore[union-attr]
    assert found["NRG_TESTS"].visibility is Visibility.PRIVATE  # type: ignore[union-attr]
    assert found["GEN0001"].visibility is Visibility.AGGREGATE  # type: ignore[union-attr]


def test_subjects_are_pseudonymous_with_demographics(server: XnatServer) -> None:
    found = records(harvester(server.url))
    keys = Pseudonymiser(SECRET.encode())
    subject = by_id(found)[keys.pseudonym("xnat-subject", "NRG_S01")]
    assert isinstance(subject, SubjectRecord)
    assert (subject.sex, subject.birth_year, subject.group) == (Sex.MALE, 1990, "control")
    study = by_id(found)["NRG_E01"]
    assert isinstance(study, StudyRecord) and study.age_years == 11.0  # born 1990-01-01, 2001-01-01
    by_label = by_id(records(harvester(server.url, subject_key="label")))
    assert keys.pseudonym("subject", "QIN-HEADNECK-01-0003") in by_label


def test_no_label_or_patient_field_reaches_a_record(server: XnatServer) -> None:
    dumped = json.dumps([r.model_dump(mode="json") for r in records(harvester(server.url))])
    site = GeneratedSite()
    labels = [row["label"] for p in site.projects() for row in site.subjects(p["ID"]) or []]
    for value in (*PHI, *labels, "MRN00000000"):
        assert value.lower() not in dumped.lower(), value


def test_bad_dates_give_no_year_and_lose_nothing(server: XnatServer) -> None:
    found = by_id(records(harvester(server.url)))
    assert found["NRG_E03"].year is None  # type: ignore[union-attr]
    assert {"NRG_E03/scans/1", "NRG_E03/scans/2"} <= set(found)


@pytest.mark.parametrize("paging", ["offset", "none", "limit"])
def test_paging_with_and_without_server_support(paging: str) -> None:
    site = Sites((recorded_site(), GeneratedSite(n_projects=2, n_sessions=40, n_scans=80)))
    with XnatServer(site, Options(paging=paging)).running() as server:  # type: ignore[arg-type]
        paged = {r.native_id for r in records(harvester(server.url, page_size=3))}
        whole = {r.native_id for r in records(harvester(server.url, page_size=0))}
    assert paged == whole and len(whole) > 100


def test_incremental_runs_take_what_changed_since(server: XnatServer) -> None:
    everything = records(harvester(server.url))
    cursors = sorted({r.cursor for r in everything if r.cursor is not None})
    since = cursors[len(cursors) // 2]
    again = records(harvester(server.url), since)
    studies = [r for r in again if isinstance(r, StudyRecord)]
    assert studies and all(s.cursor >= since for s in studies)
    assert len(studies) < len([r for r in everything if isinstance(r, StudyRecord)])
    yielded = {r.native_id for r in again}
    for record in again:  # every parent comes along
        for parent in ("collection", "subject", "study"):
            if parent in type(record).model_fields and parent != record.kind:
                assert getattr(record, parent) in yielded


def test_alias_tokens_and_anonymous_sites() -> None:
    site = recorded_site()
    with XnatServer(site).running() as server:
        token = {"username": None, "password": None, "alias": "8f14e45f-alias"}
        h = harvester(server.url, **token, secret=USERS["8f14e45f-alias"])
        assert records(h) and server.served.logins == 1
    with XnatServer(site, Options(anonymous=True)).running() as server:
        assert records(harvester(server.url, username=None, password=None))
        assert server.served.logins == 0


def test_config_is_checked() -> None:
    with pytest.raises(PydanticValidationError):
        XnatConfig.model_validate({"url": "ftp://xnat"})
    with pytest.raises(PydanticValidationError):
        XnatConfig.model_validate({"url": "https://x", "username": "u"})
    with pytest.raises(PydanticValidationError):
        XnatConfig.model_validate({"url": "https://x", **LOGIN, "alias": "a", "secret": "s"})
    with pytest.raises(PydanticValidationError):
        XnatConfig.model_validate({"url": "https://x", "unknown": 1})
