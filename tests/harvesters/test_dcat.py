"""The DCAT harvester against a contract catalogue on loopback serving the real DCAT-AP,
HealthDCAT-AP and CKAN files in ../shared/data/dcat-ap: Turtle, RDF/XML and JSON-LD, Hydra
pages, the broken upstream files, hostile XML, remote contexts, and failures mid-paging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import FatalHarvestError, RetriableHarvestError
from catalogue.records import DatasetRecord, Item
from harvesters.base import HarvestContext
from harvesters.dcat.harvester import DcatConfig, DcatHarvester
from tests.harvesters.dcat_catalogue import CKAN, SEMIC, Catalogue, paged_catalogue
from tests.harvesters.partner_server import LOGIN_PAGE, Reply, closed_url, serving

FAST = {"retry_wait_s": 0.01, "timeout_s": 5}


def harvester(url: str, **options: Any) -> DcatHarvester:
    return DcatHarvester(
        DcatConfig(url=url, **{**FAST, **options}), HarvestContext(source="partner", site="hub")
    )


def harvest(h: DcatHarvester) -> dict[str, DatasetRecord]:
    items: list[Item] = list(h.iter_records(None))
    assert all(isinstance(i, DatasetRecord) for i in items)
    return {i.native_id: i for i in items if isinstance(i, DatasetRecord)}


def one_document(file: Path, media: str | None = None) -> Catalogue:
    catalogue = Catalogue()
    catalogue.serve_file("/catalog", file, media)
    return catalogue


# -- the three serialisations ---------------------------------------------------------------------
def test_rdf_xml_catalogue_with_distributions() -> None:
    with serving(one_document(CKAN / "catalog.rdf")) as server:
        h = harvester(f"{server.url}/catalog")
        h.check_connection()
        found = harvest(h)
    assert set(found) == {
        "https://data.some.org/catalog/datasets/1",
        "https://data.some.org/catalog/datasets/2",
    }
    one = found["https://data.some.org/catalog/datasets/1"]
    assert one.title == "Example dataset 1" and "Θεσσαλονίκη" in one.description
    assert one.identifier == "https://data.some.org/catalog/datasets/1"
    assert one.meta["publisher"] == {"name": "Publishing Organization for dataset 1"}
    assert one.meta["publicationYear"] == "2013"
    assert {"subject": "pollution"} in one.meta["subjects"]
    assert {r["relatedIdentifier"] for r in one.meta["relatedIdentifiers"]} == {
        "https://data.some.org/the/actual/catalog/datasets/1/resources/1.csv",
        "https://data.some.org/the/actual/catalog/datasets/1/resources/2.pdf",
        "https://data.some.org/the/actual/catalog/link/to/an/api",
    }
    assert set(one.meta["formats"]) == {"text/csv", "application/pdf"}
    assert one.meta["types"] == {"resourceTypeGeneral": "Dataset"}
    assert h.report.failures == []


def test_healthdcat_ap_turtle() -> None:
    with serving(one_document(CKAN / "dataset_health.ttl")) as server:
        (record,) = harvest(harvester(f"{server.url}/catalog")).values()
    assert record.native_id == "http://example.healthdata.nl/set/dataset"
    assert record.title == "HealthDCAT-AP test dataset"
    assert record.identifier == "http://example.com/dataset/1234567890"  # dct:identifier as given
    theme = "http://publications.europa.eu/resource/authority/data-theme/HEAL"
    assert {"subject": theme, "valueUri": theme} in record.meta["subjects"]
    assert {"date": "2024-01-01T00:00:00+00:00", "dateType": "Issued"} in record.meta["dates"]


def test_the_preferred_language_is_chosen() -> None:
    catalogue = one_document(CKAN / "dataset_health_multilingual.ttl")
    with serving(catalogue) as server:
        english = harvest(harvester(f"{server.url}/catalog"))["http://example.test/dataset/1"]
        dutch = harvest(harvester(f"{server.url}/catalog", language="nl"))[english.native_id]
    assert (english.title, dutch.title) == ("Health dataset", "Gezondheidsdataset")
    assert {"title": "Gezondheidsdataset", "lang": "nl"} in english.meta["titles"]


def test_json_ld_with_a_shipped_context_equals_the_turtle() -> None:
    """The DCAT-AP example names its context by URL: it is read from the shipped copy."""
    catalogue = Catalogue()
    catalogue.serve_file("/bee.jsonld", SEMIC / "example-bee-population.jsonld")
    catalogue.serve_file("/bee.ttl", SEMIC / "example-bee-population.ttl")
    with serving(catalogue) as server:
        from_json = harvest(harvester(f"{server.url}/bee.jsonld"))
        from_turtle = harvest(harvester(f"{server.url}/bee.ttl"))
    assert from_json == from_turtle
    (record,) = from_json.values()
    assert record.title == "Bee population"
    assert record.meta["publisher"] == {"name": "https://agencies.gov.gr/id/GreekEnvironmentAgency"}


def test_json_ld_with_inline_contexts() -> None:
    with serving(one_document(CKAN / "catalog_pod.jsonld")) as server:
        (record,) = harvest(harvester(f"{server.url}/catalog")).values()
    assert record.title == "U.S. Widget Manufacturing Statistics"
    downloads = {r["relatedIdentifier"] for r in record.meta["relatedIdentifiers"]}
    assert "https://data.agency.gov/datasets/widgets-statistics/widgets.csv" in downloads


def test_format_from_configuration_when_the_server_does_not_say() -> None:
    with serving(one_document(CKAN / "catalog.rdf", "application/octet-stream")) as server:
        assert len(harvest(harvester(f"{server.url}/catalog", format="xml"))) == 2
        h = harvester(f"{server.url}/catalog")
        assert harvest(h) == {}
    assert "serialisation is unknown" in h.report.failures[0].reason


# -- Hydra pages --------------------------------------------------------------------------------
def test_hydra_pages_are_followed() -> None:
    with serving(paged_catalogue()) as server:
        found = harvest(harvester(f"{server.url}/catalog"))
        pages = [p.get("page") for path, p in server.requests if path == "/catalog"]
    assert set(found) == {
        "http://example.healthdata.nl/set/dataset",
        "http://example.test/dataset/1",
        "https://data.gov.gr/id/dataset/BeePopulation2022",
        "https://data.gov.gr/id/dataset/BeePopulation2023",
    }
    assert pages == [None, "2", "3"]


def test_a_loop_of_pages_is_reported_not_followed() -> None:
    catalogue = paged_catalogue()
    catalogue.pages = catalogue.pages[:1]
    page = catalogue.pages[0]
    catalogue.pages[0] = page + b"\n<> <http://www.w3.org/ns/hydra/core#next> </catalog?page=1> .\n"
    with serving(catalogue) as server:
        h = harvester(f"{server.url}/catalog?page=1")
        assert len(harvest(h)) == 1
    assert "link back in a loop" in h.report.failures[0].reason


# -- bad input ----------------------------------------------------------------------------------
def test_the_broken_upstream_turtle_is_reported_not_crashed_on() -> None:
    """ckanext-dcat's dataset.ttl uses the prefix `healthdcatap:` without declaring it."""
    catalogue = paged_catalogue()
    catalogue.pages[1] = (CKAN / "dataset.ttl").read_bytes()
    with serving(catalogue) as server:
        h = harvester(f"{server.url}/catalog")
        found = harvest(h)
    assert list(found) == ["http://example.healthdata.nl/set/dataset"]  # page 1, then the stop
    (failure,) = h.report.failures
    assert failure.native_id.endswith("/catalog?page=2")
    assert failure.reason == (
        'page 2: it is not valid Turtle: at line 158: Bad syntax (Prefix "healthdcatap:" not bound)'
    )


def test_a_dataset_without_title_is_reported_and_the_rest_harvested() -> None:
    untitled = b"<https://x.example/d/untitled> a <http://www.w3.org/ns/dcat#Dataset> .\n"
    catalogue = paged_catalogue()
    catalogue.pages[0] += b"\n" + untitled
    with serving(catalogue) as server:
        h = harvester(f"{server.url}/catalog")
        assert len(harvest(h)) == 4
    assert [(f.native_id, f.reason) for f in h.report.failures] == [
        ("https://x.example/d/untitled", "a dataset without a dct:title")
    ]


RDF_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
 <dcat:Dataset rdf:about="https://x.example/d/1"><dct:title>&e;</dct:title></dcat:Dataset>
</rdf:RDF>"""


def _rdf_external_entity(secret: Path) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY leak SYSTEM "file://{secret}">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">'
        '<dcat:Dataset rdf:about="https://x.example/d/1"><dct:title>&leak;</dct:title>'
        "</dcat:Dataset></rdf:RDF>"
    ).encode()


def test_hostile_rdf_xml_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("PATIENT^SECRET")
    for hostile in (RDF_BOMB, _rdf_external_entity(secret)):
        catalogue = Catalogue(documents={"/catalog": (hostile, "application/rdf+xml")})
        with serving(catalogue) as server:
            h = harvester(f"{server.url}/catalog")
            assert harvest(h) == {}
            with pytest.raises(FatalHarvestError, match="declares a DTD"):
                h.check_connection()
        (failure,) = h.report.failures
        assert failure.reason == "page 1: it declares a DTD or entities (refused)"
        assert "PATIENT" not in repr(h.report.failures)


def test_remote_json_ld_contexts_are_never_fetched() -> None:
    catalogue = Catalogue()
    with serving(catalogue) as server:
        context = f"{server.url}/context.jsonld"
        document = {"@context": context, "@id": "https://x.example/d/1", "title": "A"}
        catalogue.documents["/context.jsonld"] = (b'{"@context": {}}', "application/ld+json")
        catalogue.documents["/catalog"] = (json.dumps(document).encode(), "application/ld+json")
        h = harvester(f"{server.url}/catalog")
        assert harvest(h) == {}
        assert [path for path, _ in server.requests] == ["/catalog"]  # never the context
    assert "is not available locally (contexts are never fetched" in h.report.failures[0].reason
    local = {context: SEMIC / "context.jsonld"}
    document = {
        "@context": context,
        "@graph": [{"@id": "https://x.example/d/1", "@type": "Dataset", "title": {"en": "A"}}],
    }
    with serving(catalogue) as server:
        catalogue.documents["/catalog"] = (json.dumps(document).encode(), "application/ld+json")
        found = harvest(harvester(f"{server.url}/catalog", contexts=local))
    assert found["https://x.example/d/1"].title == "A"  # from the configured local copy


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"@context": {"title": "http://purl.org/dc/terms/title"', "it is not valid JSON"),
        (b"[" * 200 + b"]" * 200, "nested deeper than 64 levels"),
    ],
)
def test_broken_json_is_reported(body: bytes, reason: str) -> None:
    catalogue = Catalogue(documents={"/catalog": (body, "application/ld+json")})
    with serving(catalogue) as server:
        h = harvester(f"{server.url}/catalog")
        assert harvest(h) == {}
    assert reason in h.report.failures[0].reason


def test_an_html_login_page_with_200_stops_the_run() -> None:
    login = Reply(body=LOGIN_PAGE, content_type="text/html")
    with serving(paged_catalogue(), {2: login}) as server:
        h = harvester(f"{server.url}/catalog")
        with pytest.raises(RetriableHarvestError, match="HTML page"):
            harvest(h)


@pytest.mark.parametrize(
    "fault",
    [Reply(status=503, headers={"Retry-After": "0"}), Reply(status=500), Reply(delay_s=1.5)],
    ids=["503", "500", "timeout"],
)
def test_failures_mid_paging_are_retried(fault: Reply) -> None:
    with serving(paged_catalogue(), {2: fault}) as server:
        assert len(harvest(harvester(f"{server.url}/catalog", timeout_s=0.5))) == 4
    with serving(paged_catalogue(), {2 + i: fault for i in range(4)}) as server:
        h = harvester(f"{server.url}/catalog", timeout_s=0.5)
        with pytest.raises(RetriableHarvestError, match="4 times in a row"):
            harvest(h)


def test_a_truncated_page_is_retried() -> None:
    page = paged_catalogue()("/catalog", {"page": "2"}).body
    cut = Reply(body=page, content_type="text/turtle", truncate_to=len(page) // 2)
    with serving(paged_catalogue(), {2: cut}) as server:
        assert len(harvest(harvester(f"{server.url}/catalog"))) == 4
        assert len(server.requests) == 4


def test_unreachable_and_misconfigured() -> None:
    with pytest.raises(FatalHarvestError, match="connection refused"):
        harvester(f"{closed_url()}/catalog").check_connection()
    with serving(Catalogue()) as server, pytest.raises(FatalHarvestError, match="HTTP 404"):
        harvester(f"{server.url}/nothing").check_connection()
    with pytest.raises(PydanticValidationError):
        DcatConfig(url="file:///etc/passwd")
