"""The OAI-PMH harvester against a contract repository on loopback that answers with the real
recorded responses in ../shared/data/oai-pmh (DataCite's provider, sickle's samples), including
every protocol error, broken and hostile documents, and failures in the middle of a listing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import FatalHarvestError, RetriableHarvestError
from catalogue.records import Checkpoint, DatasetRecord, Deleted, Item
from harvesters.base import HarvestContext
from harvesters.oaipmh.harvester import OaiPmhConfig, OaiPmhHarvester
from tests.harvesters.oai_repository import (
    RESPONSE_DATE,
    SICKLE,
    VIRINGO,
    OaiRepository,
    error_document,
    example_repository,
    records_in,
)
from tests.harvesters.partner_server import LOGIN_PAGE, PartnerServer, Reply, serving

FAST = {"retry_wait_s": 0.01, "timeout_s": 5}
FIRST_LISTING_REQUEST = 3  # after Identify and ListMetadataFormats


def harvester(url: str, **options: Any) -> OaiPmhHarvester:
    config = OaiPmhConfig(url=f"{url}/oai", **{**FAST, **options})
    return OaiPmhHarvester(config, HarvestContext(source="partner", site="hub"))


def walk(h: OaiPmhHarvester, since: Any = None) -> list[Item]:
    return list(h.iter_records(since))


def datasets(items: list[Item]) -> list[DatasetRecord]:
    return [i for i in items if isinstance(i, DatasetRecord)]


@pytest.fixture
def repository() -> Iterator[PartnerServer]:
    with serving(example_repository()) as server:
        yield server


# -- what a repository says, mapped ------------------------------------------------------------
def test_datacite_records_across_resumption_tokens(repository: PartnerServer) -> None:
    h = harvester(repository.url)
    h.check_connection()
    items = walk(h)
    found = datasets(items)
    assert [d.native_id for d in found] == [f"doi:10.5072/example-{n}" for n in range(1, 7)]
    first = found[0]
    assert first.identifier == "10.5072/example-1"  # the partner's DOI, as given
    assert first.landing_page == "https://doi.org/10.5072/example-1"
    assert first.title == "Example dataset 1"
    assert first.description == "This is a fake DOI with fake metadata."
    meta = first.meta
    assert meta["doi"] == "10.5072/example-1" and meta["publicationYear"] == "2018"
    assert meta["types"] == {"resourceTypeGeneral": "Text", "resourceType": "BlogPosting"}
    assert meta["creators"][0]["nameIdentifiers"][0] == {
        "nameIdentifier": "https://orcid.org/0000-0003-1419-2405",
        "nameIdentifierScheme": "ORCID",
        "schemeUri": "https://orcid.org",
    }
    assert meta["creators"][0]["affiliation"][0]["affiliationIdentifier"] == (
        "https://ror.org/04wxnsj81"
    )
    assert meta["relatedIdentifiers"][0]["relationType"] == "IsPartOf"
    assert "geoLocations" not in meta and "rightsList" not in meta  # empty in the source
    assert items[-1] == Checkpoint(cursor=RESPONSE_DATE)
    tokens = [p.get("resumptionToken") for _, p in repository.requests if "resumptionToken" in p]
    assert len(tokens) == 2


def test_real_dublin_core_from_datacites_provider() -> None:
    repository = OaiRepository(pages={"oai_dc": [records_in(VIRINGO / "oai_listrecords_dc.xml")]})
    with serving(repository) as server:
        found = datasets(walk(harvester(server.url, metadata_prefix="oai_dc")))
    first = found[0]
    assert first.native_id == "doi:10.5072/not-a-real-doi"
    assert first.identifier == "doi:10.5072/not-a-real-doi"  # as the partner wrote it
    assert first.meta["doi"] == "10.5072/not-a-real-doi"
    assert {"date": "2018-01-18", "dateType": "Issued"} in first.meta["dates"]
    assert first.meta["types"] == {"resourceTypeGeneral": "Text", "resourceType": "BlogPosting"}
    assert first.meta["creators"] == [{"name": "Fenner, Martin"}, {"name": "Hallett, Richard"}]
    assert first.meta["publicationYear"] == "2018"
    assert first.meta["publisher"] == {"name": "DataCite"}


def test_bare_datacite_and_oai_datacite_say_the_same() -> None:
    """DataCite's provider sends one record as a bare kernel resource (`datacite`) and wrapped
    in `oai_datacite`: both give the same dataset."""
    repository = OaiRepository(
        pages={
            "datacite": [records_in(VIRINGO / "oai_getrecord_datacite.xml")],
            "oai_datacite": [records_in(VIRINGO / "oai_getrecord_oaidatacite.xml")],
        }
    )
    with serving(repository) as server:
        bare = datasets(walk(harvester(server.url, metadata_prefix="datacite")))
        wrapped = datasets(walk(harvester(server.url, metadata_prefix="oai_datacite")))
    assert bare == wrapped
    assert bare[0].identifier == "10.5072/not-a-real-doi" and bare[0].meta["version"] == "1.0"


def test_sickles_chain_of_real_pages_with_deleted_records() -> None:
    repository = OaiRepository(
        identify=SICKLE / "Identify.xml",
        formats=SICKLE / "ListMetadataFormats.xml",
        chain={"oai_dc": SICKLE / "ListRecords.xml"},
    )
    with serving(repository) as server:
        h = harvester(server.url)  # auto: this repository offers only oai_dc of ours
        items = walk(h)
    deleted = [i for i in items if isinstance(i, Deleted)]
    assert {d.native_id for d in deleted} == {"oai:test.example.com:1585310"}
    assert all(d.kind == "dataset" for d in deleted)
    record = datasets(items)[0]
    assert record.native_id == "oai:test.example.com:1585322"
    assert record.title == "Sample Title"
    assert record.landing_page == "http://test.example.com/publication/1585322"
    assert record.meta["language"] == "eng" and record.meta["publicationYear"] == "2010"
    assert record.meta["publisher"] == {"name": "Sample Publisher"}
    assert record.description.startswith("Lorem ipsum")
    # ListRecords4.xml holds a deleted header without identifier: reported, the walk went on
    assert [(f.native_id, f.reason) for f in h.report.failures] == [
        ("", "a record header without an identifier")
    ]
    assert [p.get("resumptionToken") for _, p in server.requests if "resumptionToken" in p] == [
        "ListRecords2.xml",
        "ListRecords3.xml",
        "ListRecords4.xml",
    ]


# -- incremental harvests -----------------------------------------------------------------------
def test_incremental_harvest_asks_from_the_bookmark(repository: PartnerServer) -> None:
    items = walk(harvester(repository.url), "2020-01-04T00:00:00Z")
    assert [d.identifier for d in datasets(items)] == [f"10.5072/example-{n}" for n in (4, 5, 6)]
    listing = [p for _, p in repository.requests if p.get("verb") == "ListRecords"]
    assert listing[0]["from"] == "2020-01-04T00:00:00Z"


def test_a_day_granular_repository_gets_days() -> None:
    repository = example_repository()
    repository.identify = SICKLE / "Identify.xml"  # granularity YYYY-MM-DD
    with serving(repository) as server:
        walk(harvester(server.url), "2020-01-05T10:11:12Z")
        listing = [p for _, p in server.requests if p.get("verb") == "ListRecords"]
    assert listing[0]["from"] == "2020-01-05"


def test_no_records_match_is_an_empty_harvest_not_a_failure(repository: PartnerServer) -> None:
    h = harvester(repository.url)
    items = walk(h, RESPONSE_DATE)
    assert items == [] and h.report.failures == []  # the bookmark is already there
    # the real noRecordsMatch answer is dated 2002: a bookmark never moves backwards
    assert walk(h, "2023-01-01T00:00:00Z") == [] and h.report.failures == []


# -- the repository's errors ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("document", "words"),
    [
        ("badArgument.xml", "badArgument: the repository refused the request's arguments"),
        ("cannotDisseminateFormat.xml", "does not offer the requested metadata format"),
        ("noSetHierarchy.xml", "has no sets"),
        ("idDoesNotExist.xml", "idDoesNotExist"),
        ("undefinedError.xml", "undefinedError: the repository answered an error"),
    ],
)
def test_protocol_errors_are_clear(document: str, words: str) -> None:
    faults = {FIRST_LISTING_REQUEST: Reply(body=(SICKLE / document).read_bytes())}
    with (
        serving(example_repository(), faults) as server,
        pytest.raises(FatalHarvestError) as caught,
    ):
        walk(harvester(server.url))
    assert words in caught.value.message


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("badVerb", "is it the repository's base URL?"),
        ("noMetadataFormats", "offers no metadata formats"),
    ],
)
def test_errors_before_the_listing_are_fatal(code: str, words: str) -> None:
    faults = {1: Reply(body=error_document(code, "said"))}
    with (
        serving(example_repository(), faults) as server,
        pytest.raises(FatalHarvestError) as caught,
    ):
        harvester(server.url).check_connection()
    assert f"Identify: {code}: " in caught.value.message and words in caught.value.message
    assert "(said)" in caught.value.message  # the repository's own words, quoted


def test_sets_are_listed_across_resumption_tokens() -> None:
    first = (VIRINGO / "oai_listsets.xml").read_bytes()
    first = first.replace(
        b'<resumptionToken completeListSize="11" />', b"<resumptionToken>more</resumptionToken>"
    )
    second = first.replace(b"<setSpec>DATACITE.GTEX</setSpec>", b"<setSpec>LATER.ONLY</setSpec>")
    second = second.replace(b"<resumptionToken>more</resumptionToken>", b"")
    repository = example_repository()

    def route(path: str, params: dict[str, str]) -> Reply:
        if params.get("verb") == "ListSets":
            return Reply(body=second if params.get("resumptionToken") == "more" else first)
        return repository(path, params)

    with serving(route) as server:
        harvester(server.url, set_spec="LATER.ONLY").check_connection()  # only on page 2


def test_an_expired_resumption_token_stops_the_run_to_retry() -> None:
    faults = {
        FIRST_LISTING_REQUEST + 1: Reply(body=(SICKLE / "badResumptionToken.xml").read_bytes())
    }
    with serving(example_repository(), faults) as server:
        items: list[Item] = []
        with pytest.raises(RetriableHarvestError, match="resumption token"):
            items.extend(harvester(server.url).iter_records(None))
    assert len(datasets(items)) == 2  # the first page, and no checkpoint
    assert not any(isinstance(i, Checkpoint) for i in items)


def test_a_format_the_repository_does_not_offer() -> None:
    repository = OaiRepository(formats=SICKLE / "ListMetadataFormats.xml", chain={})
    with serving(repository) as server, pytest.raises(FatalHarvestError) as caught:
        harvester(server.url, metadata_prefix="oai_datacite").check_connection()
    assert "does not offer 'oai_datacite'" in caught.value.message
    assert "oai_dc" in caught.value.message


def test_sets_are_checked_and_asked_for(repository: PartnerServer) -> None:
    harvester(repository.url, set_spec="DATACITE.DATACITE").check_connection()
    with pytest.raises(FatalHarvestError, match="no set 'NOPE'"):
        harvester(repository.url, set_spec="NOPE").check_connection()
    walk(harvester(repository.url, set_spec="DATACITE.DATACITE"))
    listing = [p for _, p in repository.requests if p.get("verb") == "ListRecords"]
    assert listing[0]["set"] == "DATACITE.DATACITE"


def test_unreachable_repository_fails_clearly() -> None:
    with serving(example_repository()) as server:
        url = server.url
    with pytest.raises(FatalHarvestError, match="connection refused"):
        harvester(url).check_connection()


def test_configuration_is_checked() -> None:
    with pytest.raises(PydanticValidationError):
        OaiPmhConfig(url="ftp://example.org/oai")
    with pytest.raises(PydanticValidationError):
        OaiPmhConfig(url="https://example.org/oai?verb=Identify")
    with pytest.raises(PydanticValidationError):
        OaiPmhConfig(url="https://example.org/oai", metadata_prefix="marc21")  # type: ignore[arg-type]


# -- bad input ----------------------------------------------------------------------------------
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>&lol9;</responseDate>
<ListRecords/></OAI-PMH>"""


def _external_entity(secret: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY leak SYSTEM "file://{secret}">]>'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-05-01T12:00:00Z</responseDate><ListRecords><record><header>"
        "<identifier>oai:x:1</identifier><datestamp>2024-01-01</datestamp></header><metadata>"
        '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>&leak;</dc:title></oai_dc:dc>'
        "</metadata></record></ListRecords></OAI-PMH>"
    ).encode()


def test_xml_bombs_and_external_entities_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("PATIENT^SECRET")
    for hostile in (BILLION_LAUGHS, _external_entity(secret)):
        faults = {FIRST_LISTING_REQUEST + 1: Reply(body=hostile)}
        with serving(example_repository(), faults) as server:
            items: list[Item] = []
            started = time.monotonic()
            with pytest.raises(RetriableHarvestError) as caught:
                items.extend(harvester(server.url).iter_records(None))
        assert time.monotonic() - started < 5
        assert "declares a DTD or entities (refused)" in caught.value.message
        assert "page 2 of ListRecords" in caught.value.message
        assert "PATIENT" not in repr(items) and "PATIENT" not in caught.value.message
        assert len(datasets(items)) == 2  # what came before the hostile page


def test_broken_xml_mid_listing_stops_the_run() -> None:
    faults = {
        FIRST_LISTING_REQUEST + 2: Reply(body=(SICKLE / "ListRecordsBroken.xml").read_bytes())
    }
    with (
        serving(example_repository(), faults) as server,
        pytest.raises(RetriableHarvestError) as caught,
    ):
        walk(harvester(server.url))
    assert "not well-formed XML (page 3 of ListRecords)" in caught.value.message


def test_an_html_login_page_with_200_is_not_taken_for_data() -> None:
    login = Reply(body=LOGIN_PAGE, content_type="text/html")
    with (
        serving(example_repository(), {FIRST_LISTING_REQUEST: login}) as server,
        pytest.raises(RetriableHarvestError, match="HTML page"),
    ):
        walk(harvester(server.url))
    with (
        serving(example_repository(), {1: login}) as server,
        pytest.raises(FatalHarvestError, match="HTML page"),
    ):
        harvester(server.url).check_connection()


def test_a_non_oai_document_is_refused() -> None:
    with (
        serving(lambda _p, _q: Reply(body=b"<rss><channel/></rss>")) as server,
        pytest.raises(FatalHarvestError, match="not an OAI-PMH document"),
    ):
        harvester(server.url).check_connection()


# -- retries mid-listing ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fault",
    [
        Reply(status=503, headers={"Retry-After": "0"}),
        Reply(status=500),
        Reply(status=502),
        Reply(delay_s=1.5),
        "truncated",
    ],
    ids=["503-retry-after", "500", "502", "timeout", "truncated"],
)
def test_failures_mid_listing_are_retried(fault: Reply | str) -> None:
    second = FIRST_LISTING_REQUEST + 1
    repository = example_repository()
    if fault == "truncated":
        page = repository(
            "/oai", {"verb": "ListRecords", "resumptionToken": "oai_datacite||1"}
        ).body
        fault = Reply(body=page, truncate_to=len(page) // 2)
    assert isinstance(fault, Reply)
    with serving(repository, {second: fault}) as server:
        items = walk(harvester(server.url, timeout_s=0.5))
        assert len(datasets(items)) == 6 and items[-1] == Checkpoint(cursor=RESPONSE_DATE)
        assert server.requests[second - 1] == server.requests[second]  # asked again
    with (
        serving(repository, {second + i: fault for i in range(4)}) as server,
        pytest.raises(RetriableHarvestError, match="4 times in a row"),
    ):
        walk(harvester(server.url, timeout_s=0.5))
