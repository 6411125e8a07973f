"""The DIMSE (C-FIND) harvester against a real Orthanc loaded with real DICOM files, and a second
Orthanc that checks AE titles."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import FatalHarvestError
from catalogue.records import (
    Checkpoint,
    CollectionRecord,
    Item,
    Record,
    Seen,
    SeriesRecord,
    StudyRecord,
    SubjectRecord,
)
from harvesters.base import HarvestContext
from harvesters.dicom.deid import Deidentifier
from harvesters.dicom.dimse import DimseConfig, DimseHarvester
from tests.conftest import IN_CI
from tests.harvesters import orthanc

pytestmark = pytest.mark.orthanc

SECRET = "a-site-secret-of-32-characters!!"
R = TypeVar("R", bound=Record)
DEID = Deidentifier(SECRET.encode())


def harvester(host: str, port: int, aet: str, **options: Any) -> DimseHarvester:
    config = DimseConfig(host=host, port=port, called_aet=aet, collection="Test PACS", **options)
    context = HarvestContext(source="pacs", site="test", pseudonym_secret=SecretStr(SECRET))
    return DimseHarvester(config, context)


def records(items: list[Item]) -> list[Record]:
    return [i for i in items if not isinstance(i, Seen | Checkpoint)]


def of_kind(items: list[Item], kind: type[R]) -> dict[str, R]:
    return {r.native_id: r for r in items if isinstance(r, kind)}


@pytest.fixture(scope="module")
def loaded(orthanc_url: str) -> orthanc.Loaded:
    return orthanc.load(orthanc_url)


@pytest.fixture(scope="module")
def scp(loaded: orthanc.Loaded) -> tuple[str, int, str]:
    """Host, port and AE title of the shared Orthanc's DICOM server."""
    address = os.environ.get("CATALOGUE_TEST_ORTHANC_DICOM", "127.0.0.1:14242")
    host, port = address.rsplit(":", 1)
    return host, int(port), os.environ.get("CATALOGUE_TEST_ORTHANC_AET", "CATALOGUE_TEST")


@pytest.fixture(scope="module")
def full_walk(scp: tuple[str, int, str]) -> tuple[list[Item], DimseHarvester]:
    walker = harvester(*scp)
    return list(walker.iter_records(None)), walker


def test_check_connection_echoes(scp: tuple[str, int, str]) -> None:
    harvester(*scp).check_connection()


def test_full_walk_matches_what_orthanc_holds(
    full_walk: tuple[list[Item], DimseHarvester], orthanc_url: str
) -> None:
    items, walker = full_walk
    held = orthanc.holdings(orthanc_url)
    collections = [r for r in records(items) if isinstance(r, CollectionRecord)]
    assert [(c.native_id, c.title) for c in collections] == [("pacs", "Test PACS")]
    assert len(of_kind(items, SubjectRecord)) == held.patients
    assert len(of_kind(items, StudyRecord)) == held.studies
    series = of_kind(items, SeriesRecord)
    counts = {DEID.pseudonym("series", uid): n for uid, n in held.instances_per_series.items()}
    assert {k: s.instance_count for k, s in series.items()} == counts
    assert walker.report.failures == []


def test_series_fields_are_filled(full_walk: tuple[list[Item], DimseHarvester]) -> None:
    items, _ = full_walk
    series, studies = of_kind(items, SeriesRecord), of_kind(items, StudyRecord)
    for uid, instances in orthanc.generated_series().items():
        ds = instances[0]
        record = series[DEID.pseudonym("series", uid)]
        assert isinstance(record, SeriesRecord)
        assert (record.modality, record.body_part) == ("MR", "BRAIN")
        assert record.series_description == ds.SeriesDescription
        assert record.field_strength_t == float(ds.MagneticFieldStrength)
        assert record.repetition_time_ms == float(ds.RepetitionTime)
        assert record.echo_time_ms in {float(i.EchoTime) for i in instances}
        assert record.flip_angle_deg == float(ds.FlipAngle)
        assert record.manufacturer == ds.Manufacturer
        assert record.instance_count == len(instances) and record.year == int(ds.StudyDate[:4])
        assert record.contrast_agent is None  # C-FIND's empty answer is not "no contrast"
        assert studies[record.study].age_years == float(ds.PatientAge[:3])


def test_no_raw_identifier_reaches_a_record_or_a_log(
    scp: tuple[str, int, str], loaded: orthanc.Loaded, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        items = list(harvester(*scp, window_days=3650).iter_records("20150101"))
    texts = [r.model_dump_json() for r in records(items)]
    assert texts and orthanc.leaked(texts, loaded.raw_values) == []
    assert "Find" in caplog.text  # pynetdicom did log, without the identifiers
    assert orthanc.leaked([caplog.text], loaded.raw_values) == []


def test_incremental_run_yields_only_studies_from_the_cursor_on(
    scp: tuple[str, int, str], orthanc_url: str
) -> None:
    since = "20150601"
    items = list(harvester(*scp, window_days=365).iter_records(since))
    held = orthanc.holdings(orthanc_url, since=since)
    assert len(of_kind(items, StudyRecord)) == held.studies < orthanc.holdings(orthanc_url).studies
    assert len(of_kind(items, SeriesRecord)) == held.series
    cursors = [c for i in items if not isinstance(i, Seen) and (c := i.cursor) is not None]
    assert cursors and min(cursors) >= since and cursors == sorted(cursors)
    assert isinstance(items[-1], Checkpoint)


def test_access_url_template(scp: tuple[str, int, str]) -> None:
    template = "https://viewer.site.example/series/{series}"
    uid = next(iter(orthanc.generated_series()))
    walker = harvester(*scp, window_days=3650, access_url_template=template)
    record = of_kind(list(walker.iter_records("20150101")), SeriesRecord)[
        DEID.pseudonym("series", uid)
    ]
    assert record.access_url == template.format(series=record.native_id)
    with pytest.raises(PydanticValidationError, match="expose_uids_in_access_url"):
        DimseConfig(
            host="h", port=104, called_aet="A", collection="c", access_url_template="{series_uid}"
        )


def test_unreachable_port_is_fatal_with_a_clear_reason() -> None:
    port = orthanc.free_ports()[0]
    walker = harvester("127.0.0.1", port, "NOBODY", timeout_s=2)
    with pytest.raises(FatalHarvestError, match="connection refused") as caught:
        walker.check_connection()
    assert f"NOBODY@127.0.0.1:{port} (calling AE CATALOGUE)" in caught.value.message


# --- AE title checks, against a second Orthanc that makes them ----------------------------------


@pytest.fixture(scope="module")
def secured(
    orthanc_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[orthanc.Secured]:
    binaries = orthanc.orthanc_binaries()
    if binaries is None:
        reason = "the Orthanc binary or its DICOMweb plugin is not installed"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    with orthanc.secured_orthanc(*binaries, tmp_path_factory.mktemp("orthanc")) as server:
        yield server


def test_the_registered_calling_aet_harvests(secured: orthanc.Secured) -> None:
    walker = harvester("127.0.0.1", secured.dicom_port, secured.aet)
    walker.check_connection()
    assert len(of_kind(list(walker.iter_records(None)), SeriesRecord)) == 2


def test_wrong_called_aet_is_rejected_clearly(secured: orthanc.Secured) -> None:
    walker = harvester("127.0.0.1", secured.dicom_port, "NOT_ORTHANC")
    with pytest.raises(FatalHarvestError, match="association rejected by NOT_ORTHANC@") as caught:
        walker.check_connection()
    assert "Called AE title not recognised" in caught.value.message


def test_unregistered_calling_aet_is_refused_clearly(secured: orthanc.Secured) -> None:
    walker = harvester("127.0.0.1", secured.dicom_port, secured.aet, calling_aet="STRANGER")
    with pytest.raises(FatalHarvestError, match=r"calling AE STRANGER\)") as caught:
        list(walker.iter_records(None))
    assert secured.aet in caught.value.message


def test_config_checks_ae_titles() -> None:
    with pytest.raises(PydanticValidationError, match="AE title"):
        DimseConfig(host="h", port=104, called_aet="A" * 17, collection="c")
