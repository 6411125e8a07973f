"""The XNAT harvester meets bad credentials, login pages, expiring sessions, slow and failing
servers, malformed JSON and hostile XML: each gets a clear error or a per-record report, and
nothing else is lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.demo.xnat_server import Fault, Options, XnatServer
from api.demo.xnat_site import GeneratedSite, Sites
from catalogue.errors import FatalHarvestError, RetriableHarvestError
from harvesters.xnat.harvester import XnatHarvester
from harvesters.xnat.session_xml import BadDocument, parse_session
from tests.harvesters.test_xnat import by_id, harvester, records
from tests.harvesters.xnat_site import HOSTILE_DOCUMENTS, recorded_site

SITE = Sites((recorded_site(hostile=True), GeneratedSite(n_projects=2, n_sessions=12, n_scans=60)))


def failed(h: XnatHarvester) -> list[str]:
    """What a run reported, besides the hostile documents (reported every time)."""
    return [f.native_id for f in h.report.failures if f.native_id not in HOSTILE_DOCUMENTS]


@pytest.fixture
def server() -> Iterator[XnatServer]:
    with XnatServer(SITE).running() as running:
        yield running


def test_wrong_password_is_fatal_and_says_so(server: XnatServer) -> None:
    with pytest.raises(FatalHarvestError, match="refused the credentials"):
        harvester(server.url, password="wrong").check_connection()
    with pytest.raises(FatalHarvestError, match="refused the credentials"):
        records(harvester(server.url, password="wrong"))


def test_anonymous_access_to_a_closed_site_is_fatal(server: XnatServer) -> None:
    with pytest.raises(FatalHarvestError, match="HTTP 401"):
        harvester(server.url, username=None, password=None).check_connection()


def test_an_html_login_page_with_status_200_is_fatal() -> None:
    server = XnatServer(SITE, Options(login_page=True))
    with server.running(), pytest.raises(FatalHarvestError, match="HTML page"):
        records(harvester(server.url, username=None, password=None))


@pytest.mark.parametrize("concurrency", [1, 4])
def test_an_expired_session_logs_in_again(server: XnatServer, concurrency: int) -> None:
    baseline = harvester(server.url)
    expected = {r.native_id for r in records(baseline)}
    expiry = Options(session_requests=6 * concurrency, login_page=True)
    with XnatServer(SITE, expiry).running() as expiring:
        h = harvester(expiring.url, concurrency=concurrency)
        assert {r.native_id for r in records(h)} == expected
        assert expiring.served.logins > 2 and h.report.failures == baseline.report.failures


def test_a_nonexistent_server_is_fatal() -> None:
    with XnatServer(SITE).running() as server:
        url = server.url
    with pytest.raises(FatalHarvestError, match="cannot reach XNAT"):
        harvester(url).check_connection()


def test_transient_failures_are_retried(server: XnatServer) -> None:
    expected = {r.native_id for r in records(harvester(server.url))}
    server.fault("/data/projects", Fault("status", 503), Fault("status", 502))
    server.fault("/data/experiments/GEN_E0000003/scans", Fault("status", 504))
    h = harvester(server.url)
    assert {r.native_id for r in records(h)} == expected and failed(h) == []


def test_a_server_that_stays_down_stops_the_run_as_retriable(server: XnatServer) -> None:
    server.fault("/data/experiments/GEN_E0000003/scans", *[Fault("status", 503)] * 3)
    with pytest.raises(RetriableHarvestError, match="HTTP 503 3 times"):
        records(harvester(server.url, retries=2))


def test_timeouts_are_retried_then_retriable(server: XnatServer) -> None:
    server.fault("/data/experiments/GEN_E0000002/scans", Fault("delay", seconds=0.6))
    h = harvester(server.url, timeout_s=0.3)
    assert "GEN_E0000002/scans/1" in by_id(records(h))  # the second try answered
    server.fault("/data/experiments/GEN_E0000002/scans", *[Fault("delay", seconds=0.6)] * 2)
    with pytest.raises(RetriableHarvestError, match=r"did not answer within 0\.3 s"):
        records(harvester(server.url, timeout_s=0.3, retries=1))


def test_a_failing_session_is_reported_and_the_rest_harvested(server: XnatServer) -> None:
    server.fault("/data/experiments/GEN_E0000004/scans", Fault("status", 500))
    server.fault("/data/experiments/GEN_E0000005/scans", Fault("truncated"))
    h = harvester(server.url)
    found = by_id(records(h))
    failed = {f.native_id: f.reason for f in h.report.failures}
    assert "HTTP 500" in failed["GEN_E0000004"] and "not JSON" in failed["GEN_E0000005"]
    assert "GEN_E0000004" not in found and "GEN_E0000005" not in found
    assert {"GEN_E0000003", "GEN_E0000006/scans/1"} <= set(found)


def test_a_5xx_in_the_middle_of_a_listing_is_reported_per_project(server: XnatServer) -> None:
    server.fault("/data/projects/GEN0000/experiments?offset=2", Fault("status", 500))
    h = harvester(server.url, page_size=2)
    found = by_id(records(h))
    assert failed(h) == ["GEN0000"] and "HTTP 500" in h.report.failures[0].reason
    assert "GEN_E0000000" in found and "GEN_E0000002" not in found  # first page kept
    assert "GEN_E0000006" in found  # the next project is whole


def test_hostile_and_broken_documents_are_reported(server: XnatServer) -> None:
    h = harvester(server.url)
    found = by_id(records(h))
    failed = {f.native_id: f.reason for f in h.report.failures}
    assert set(failed) == set(HOSTILE_DOCUMENTS)
    assert "DTD" in failed["HOST_E1"] and "not an XNAT experiment" in failed["HOST_E4"]
    for experiment in HOSTILE_DOCUMENTS:  # the listing still gives the scan
        assert found[f"{experiment}/scans/1"].protocol_name == "T1"  # type: ignore[union-attr]
    assert "root:" not in str([r.model_dump() for r in found.values()])  # no /etc/passwd


@pytest.mark.parametrize("experiment", sorted(HOSTILE_DOCUMENTS))
def test_the_parser_refuses_hostile_documents(experiment: str) -> None:
    with pytest.raises(BadDocument):
        parse_session(HOSTILE_DOCUMENTS[experiment])


def test_the_parser_refuses_oversized_documents() -> None:
    with pytest.raises(BadDocument, match="larger than"):
        parse_session(b"<x>" + b" " * (16 * 1024 * 1024) + b"</x>")


def test_forbidden_site_listing_is_fatal_and_a_forbidden_project_is_reported(
    server: XnatServer,
) -> None:
    server.fault("/data/projects/GEN0001/subjects", Fault("status", 403))
    h = harvester(server.url)
    found = by_id(records(h))
    assert failed(h) == ["GEN0001"] and "HTTP 403" in h.report.failures[0].reason
    assert "GEN_E0000000" in found and "GEN_E0000006" not in found
    server.fault("/data/projects", Fault("status", 403))
    with pytest.raises(FatalHarvestError, match="HTTP 403: check the account's rights"):
        records(harvester(server.url))


def test_unusable_rows_are_reported_per_session() -> None:
    site = recorded_site()
    rows = site.experiment_rows["NRG_TESTS"]
    rows.append({**rows[0], "ID": "NRG_E98", "subject_ID": "NOT_LISTED"})
    rows.append({**rows[0], "ID": "NRG_E99"})
    site.scan_rows["NRG_E99"] = [{"ID": "9" * 600, "type": "T1", "xsiType": "xnat:mrScanData"}]
    site.documents["NRG_E99"] = site.documents["NRG_E01"]
    with XnatServer(site).running() as server:
        h = harvester(server.url)
        found = by_id(records(h))
    reasons = {f.native_id: f.reason for f in h.report.failures}
    assert "not in the subject listing" in reasons["NRG_E98"]
    assert "do not fit native_id" in reasons["NRG_E99"] and "999" not in reasons["NRG_E99"]
    assert "NRG_E99" not in found and "NRG_E01/scans/1" in found
    assert not [r for r in server.served.requests if "NRG_E98" in r]  # no request wasted
