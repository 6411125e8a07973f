"""The DICOMweb harvester against a real Orthanc (loaded with real DICOM files), a second Orthanc
that checks credentials, and a small contract server for what Orthanc cannot be made to do
(bearer tokens, malformed answers, capped pages, slow answers)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, TypeVar

import httpx
import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import FatalHarvestError, RetriableHarvestError
from catalogue.models import Sex
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
from harvesters.dicom.dicomweb import DicomWebConfig, DicomWebHarvester
from tests.conftest import IN_CI
from tests.harvesters import orthanc

pytestmark = pytest.mark.orthanc

SECRET = "a-site-secret-of-32-characters!!"
R = TypeVar("R", bound=Record)
DEID = Deidentifier(SECRET.encode())


def harvester(url: str, **options: Any) -> DicomWebHarvester:
    config = DicomWebConfig(url=url, collection="Test PACS", **options)
    context = HarvestContext(source="pacs", site="test", pseudonym_secret=SecretStr(SECRET))
    return DicomWebHarvester(config, context)


def records(items: list[Item]) -> list[Record]:
    return [i for i in items if not isinstance(i, Seen | Checkpoint)]


def of_kind(items: list[Item], kind: type[R]) -> dict[str, R]:
    return {r.native_id: r for r in items if isinstance(r, kind)}


@pytest.fixture(scope="module")
def loaded(orthanc_url: str) -> orthanc.Loaded:
    return orthanc.load(orthanc_url)


@pytest.fixture(scope="module")
def dicomweb(orthanc_url: str, loaded: orthanc.Loaded) -> str:
    return orthanc_url + "/dicom-web"


@pytest.fixture(scope="module")
def full_walk(dicomweb: str) -> tuple[list[Item], DicomWebHarvester]:
    walker = harvester(dicomweb)
    return list(walker.iter_records(None)), walker


def test_check_connection_passes(dicomweb: str) -> None:
    harvester(dicomweb).check_connection()


def test_full_walk_matches_what_orthanc_holds(
    full_walk: tuple[list[Item], DicomWebHarvester], orthanc_url: str
) -> None:
    items, walker = full_walk
    held = orthanc.holdings(orthanc_url)
    collections = [r for r in records(items) if isinstance(r, CollectionRecord)]
    assert [(c.native_id, c.title) for c in collections] == [("pacs", "Test PACS")]
    assert len(of_kind(items, SubjectRecord)) == held.patients
    assert len(of_kind(items, StudyRecord)) == held.studies
    series = of_kind(items, SeriesRecord)
    assert len(series) == held.series
    counts = {DEID.pseudonym("series", uid): n for uid, n in held.instances_per_series.items()}
    assert {k: s.instance_count for k, s in series.items()} == counts
    assert walker.report.failures == []


def test_series_fields_are_filled(full_walk: tuple[list[Item], DicomWebHarvester]) -> None:
    items, _ = full_walk
    series = of_kind(items, SeriesRecord)
    subjects, studies = of_kind(items, SubjectRecord), of_kind(items, StudyRecord)
    for uid, instances in orthanc.generated_series().items():
        ds = instances[0]
        record = series[DEID.pseudonym("series", uid)]
        assert isinstance(record, SeriesRecord)
        assert record.modality == "MR" and record.body_part == "BRAIN"
        assert record.series_description == ds.SeriesDescription
        assert record.field_strength_t == float(ds.MagneticFieldStrength)
        assert record.repetition_time_ms == float(ds.RepetitionTime)
        assert record.echo_time_ms in {float(i.EchoTime) for i in instances}
        assert record.flip_angle_deg == float(ds.FlipAngle)
        assert record.slice_thickness_mm == float(ds.SliceThickness)
        assert record.manufacturer == ds.Manufacturer
        assert record.model_name == ds.ManufacturerModelName
        assert record.instance_count == len(instances) and record.year == int(ds.StudyDate[:4])
        assert record.sop_class_uids == ("1.2.840.10008.5.1.4.1.1.4",)
        study = studies[record.study]
        assert study.age_years == float(ds.PatientAge[:3])
        subject = subjects[record.subject]
        assert subject.sex == {"M": Sex.MALE, "F": Sex.FEMALE}[ds.PatientSex]


def test_no_raw_identifier_reaches_a_record(
    full_walk: tuple[list[Item], DicomWebHarvester], loaded: orthanc.Loaded
) -> None:
    items, _ = full_walk
    texts = [r.model_dump_json() for r in records(items)]
    assert orthanc.leaked(texts, loaded.raw_values) == []
    addressed = [r for r in records(items) if isinstance(r, StudyRecord | SeriesRecord)]
    assert addressed and all(r.access_url is None for r in addressed)


def test_no_raw_identifier_reaches_a_log(
    dicomweb: str, loaded: orthanc.Loaded, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        items = list(harvester(dicomweb, metadata="first").iter_records(None))
    assert records(items)
    assert "/studies/" in caplog.text  # httpx did log its requests, with the UIDs redacted
    assert orthanc.leaked([caplog.text], loaded.raw_values) == []


def test_cursors_ascend_and_end_with_a_checkpoint(
    full_walk: tuple[list[Item], DicomWebHarvester],
) -> None:
    items, _ = full_walk
    cursors = [c for i in items if not isinstance(i, Seen) and (c := i.cursor) is not None]
    assert cursors == sorted(cursors)
    assert isinstance(items[-1], Checkpoint)


def test_incremental_run_yields_only_studies_from_the_cursor_on(
    dicomweb: str, orthanc_url: str
) -> None:
    since = "20150601"  # between the generated studies' dates (2015-01 ... 2016-06)
    items = list(harvester(dicomweb, window_days=365).iter_records(since))
    held = orthanc.holdings(orthanc_url, since=since)
    assert len(of_kind(items, StudyRecord)) == held.studies < orthanc.holdings(orthanc_url).studies
    assert len(of_kind(items, SeriesRecord)) == held.series
    cursors = [c for i in items if not isinstance(i, Seen) and (c := i.cursor) is not None]
    assert cursors and min(cursors) >= since and cursors == sorted(cursors)


def test_resuming_from_the_last_cursor_only_walks_the_last_window(
    full_walk: tuple[list[Item], DicomWebHarvester], dicomweb: str, orthanc_url: str
) -> None:
    items, _ = full_walk
    assert isinstance(items[-1], Checkpoint)
    last = items[-1].cursor
    again = list(harvester(dicomweb).iter_records(last))
    assert len(of_kind(again, SeriesRecord)) == orthanc.holdings(orthanc_url, since=last).series
    assert again[-1] == Checkpoint(cursor=last)


def test_paging_with_small_pages_gives_the_same_records(
    full_walk: tuple[list[Item], DicomWebHarvester], dicomweb: str
) -> None:
    items, _ = full_walk
    paged = list(harvester(dicomweb, page_size=4).iter_records(None))
    assert of_kind(paged, SeriesRecord).keys() == of_kind(items, SeriesRecord).keys()


@pytest.mark.parametrize("mode", ["first", "all"])
def test_metadata_modes_give_the_same_series(
    full_walk: tuple[list[Item], DicomWebHarvester], dicomweb: str, mode: str
) -> None:
    items, _ = full_walk
    walked = list(harvester(dicomweb, metadata=mode).iter_records(None))
    assert of_kind(walked, SeriesRecord).keys() == of_kind(items, SeriesRecord).keys()
    if mode == "all":  # every instance is read: the multi-echo series shows both echo times
        for uid, instances in orthanc.generated_series().items():
            record = of_kind(walked, SeriesRecord)[DEID.pseudonym("series", uid)]
            echoes = sorted({float(i.EchoTime) for i in instances})
            assert record.echo_time_ms == echoes[0]
            if len(echoes) > 1:
                assert record.attributes["varying"]["echo_time_ms"] == echoes


def test_access_urls_with_uids_only_when_exposed(dicomweb: str) -> None:
    uid, instances = next(iter(orthanc.generated_series().items()))
    study_uid = str(instances[0].StudyInstanceUID)
    exposed = harvester(dicomweb, expose_uids_in_access_url=True, window_days=365)
    items = list(exposed.iter_records("20150101"))
    record = of_kind(items, SeriesRecord)[DEID.pseudonym("series", uid)]
    assert record.access_url == f"{dicomweb}/studies/{study_uid}/series/{uid}"
    assert httpx.get(f"{record.access_url}/metadata").status_code == 200
    template = "https://viewer.site.example/series/{series}?subject={subject}"
    templated = harvester(dicomweb, access_url_template=template, window_days=365)
    items = list(templated.iter_records("20150101"))
    record = of_kind(items, SeriesRecord)[DEID.pseudonym("series", uid)]
    assert record.access_url == template.format(
        series=record.native_id,
        subject=record.subject,
    )


def test_uid_placeholders_need_the_opt_in() -> None:
    with pytest.raises(PydanticValidationError, match="expose_uids_in_access_url"):
        DicomWebConfig(
            url="http://pacs/dicom-web", collection="x", access_url_template="{series_uid}"
        )
    with pytest.raises(PydanticValidationError, match="not allowed"):
        DicomWebConfig(url="http://pacs/dicom-web", collection="x", access_url_template="{name}")


def test_config_checks_auth_and_url() -> None:
    with pytest.raises(PydanticValidationError, match="together"):
        DicomWebConfig(url="http://pacs/dicom-web", collection="x", username="u")
    with pytest.raises(PydanticValidationError, match="credentials"):
        DicomWebConfig(url="http://u:p@pacs/dicom-web", collection="x")
    with pytest.raises(PydanticValidationError, match="Extra inputs"):
        DicomWebConfig(url="http://pacs/dicom-web", collection="x", colour="blue")  # type: ignore[call-arg]


def test_unreachable_port_is_fatal_with_a_clear_reason() -> None:
    url = f"http://127.0.0.1:{orthanc.free_ports()[0]}/dicom-web"
    with pytest.raises(FatalHarvestError, match="connection refused") as caught:
        harvester(url).check_connection()
    assert url in caught.value.message
    with pytest.raises(FatalHarvestError, match="connection refused"):
        list(harvester(url).iter_records(None))


def test_wrong_root_is_fatal_with_a_hint(orthanc_url: str) -> None:
    with pytest.raises(FatalHarvestError, match=r"HTTP 404 \(is url the DICOMweb root\?\)"):
        harvester(orthanc_url + "/not-dicom-web").check_connection()


def test_no_pseudonym_secret_is_fatal(dicomweb: str) -> None:
    config = DicomWebConfig(url=dicomweb, collection="x")
    walker = DicomWebHarvester(config, HarvestContext(source="pacs", site="test"))
    with pytest.raises(FatalHarvestError, match="no pseudonym secret"):
        list(walker.iter_records(None))


# --- basic auth, against a second Orthanc that requires it ------------------------------------


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


def test_basic_auth_with_the_right_password(secured: orthanc.Secured) -> None:
    walker = harvester(
        secured.url + "/dicom-web", username=secured.user, password=SecretStr(secured.password)
    )
    walker.check_connection()
    items = list(walker.iter_records(None))
    assert len(of_kind(items, SeriesRecord)) == 2 and walker.report.failures == []


@pytest.mark.parametrize("password", ["wrong", None])
def test_wrong_or_missing_credentials_are_fatal(
    secured: orthanc.Secured, password: str | None
) -> None:
    auth = {"username": secured.user, "password": SecretStr(password)} if password else {}
    walker = harvester(secured.url + "/dicom-web", **auth)
    for attempt in (walker.check_connection, lambda: list(walker.iter_records(None))):
        with pytest.raises(FatalHarvestError, match=r"authentication failed .* \(HTTP 401\)"):
            attempt()


# --- a contract server: bearer tokens, malformed answers, capped pages, slow answers ----------


class _Handler(BaseHTTPRequestHandler):
    """Answers like a DICOMweb server: two studies (capped at one per page, with the PS3.18
    warning), one with a malformed series answer, one with a good series."""

    token = "good-token"
    delay_s: ClassVar[float] = 0.0
    requests: ClassVar[list[str]] = []
    STUDIES: ClassVar[list[dict[str, Any]]] = [
        {
            "0020000D": {"vr": "UI", "Value": [f"1.2.826.0.1.99.{n}"]},
            "00080020": {"vr": "DA", "Value": [f"2020010{n}"]},
            "00100020": {"vr": "LO", "Value": [f"FAKE-PATIENT-{n}"]},
            "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Fakename^Fiona"}]},
        }
        for n in (1, 2)
    ]
    SERIES: ClassVar[dict[str, list[dict[str, Any]]]] = {
        "1.2.826.0.1.99.1": [
            {
                "0020000E": {"vr": "UI", "Value": ["1.2.826.0.1.99.1.1"]},
                "00080060": {"Value": ["MR"]},  # malformed: no "vr"
                "00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.4"]},
            }
        ],
        "1.2.826.0.1.99.2": [
            {
                "0020000E": {"vr": "UI", "Value": ["1.2.826.0.1.99.2.1"]},
                "00080060": {"vr": "CS", "Value": ["CT"]},
                "00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2"]},
            }
        ],
    }

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        time.sleep(self.delay_s)
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            return self._send(401, {"error": "unauthorised"})
        path, _, query = self.path.partition("?")
        if path == "/dicom-web/studies":
            offset = int(dict(p.split("=") for p in query.split("&")).get("offset", 0))
            more = offset + 1 < len(self.STUDIES)
            return self._send(200, self.STUDIES[offset : offset + 1], more)
        for uid, series in self.SERIES.items():
            if path == f"/dicom-web/studies/{uid}/series":
                return self._send(200, series)
        return self._send(404, {})

    def _send(self, status: int, body: object, more: bool = False) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/dicom+json")
        if more:
            self.send_header("Warning", "299 fake: There are additional results to be requested")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def contract() -> Iterator[str]:
    _Handler.requests, _Handler.delay_s = [], 0.0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dicom-web"
    server.shutdown()
    server.server_close()


def test_bearer_token_and_capped_pages_and_a_malformed_series(contract: str) -> None:
    walker = harvester(contract, token=SecretStr("good-token"))
    walker.check_connection()
    items = list(walker.iter_records(None))
    series = of_kind(items, SeriesRecord)
    assert [s.modality for s in series.values()] == ["CT"]
    failures = walker.report.failures
    assert [f.native_id for f in failures] == [DEID.pseudonym("series", "1.2.826.0.1.99.1.1")]
    assert "malformed DICOM JSON" in failures[0].reason
    assert orthanc.leaked([repr(failures)], ["1.2.826.0.1.99.1.1", "FAKE-PATIENT-1"]) == []
    # the server capped pages at one study and said so: paging went on past the short page
    assert any("offset=1" in r for r in _Handler.requests)


def test_wrong_bearer_token_is_fatal(contract: str) -> None:
    with pytest.raises(FatalHarvestError, match="authentication failed"):
        harvester(contract, token=SecretStr("stolen")).check_connection()


def test_a_slow_server_is_retriable(contract: str) -> None:
    _Handler.delay_s = 1.0
    walker = harvester(contract, token=SecretStr("good-token"), timeout_s=0.2)
    with pytest.raises(RetriableHarvestError, match=r"did not answer within 0.2 s"):
        list(walker.iter_records(None))


def test_the_fixture_is_idempotent(orthanc_url: str, loaded: orthanc.Loaded) -> None:
    before = orthanc.holdings(orthanc_url)
    assert orthanc.load(orthanc_url).instances == loaded.instances
    assert orthanc.holdings(orthanc_url) == before


def test_loader_skips_files_without_keys() -> None:
    files = list(orthanc.testdata_files())
    assert files and all(all(ds.get(k) for k in orthanc.KEYS) for _data, ds in files)
