"""The publishing flow in Chromium, against a real node whose DOI provider is the DataCite
contract server: a cohort built in the page becomes a dataset, its metadata is checked (the
node's located errors shown by the field), its DOI reserved and published at the registrar, its
landing page cites it, and its manifest downloads. Others see no publishing controls."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import jwt
import pytest
from playwright.sync_api import Page, Route, expect

from tests.federation.nodes import Node
from tests.publishing.datacite_server import DataCiteContract, serve
from tests.web.conftest import SECRET, admin_token, screenshot, web_node
from tests.web.test_accessibility import described, violations
from tests.web.test_pages import sent, shown

pytestmark = pytest.mark.browser

REPOSITORY, PASSWORD, PREFIX = "imaging.catalogue", "s3cret-pass", "10.80001"
DATASET = """query($key: String!) { dataset(key: $key) { id state conceptDoi metadata
  versions { version doi state members } datasheet { subjects { value } } } }"""
COHORT = "query($query: CohortInput!) { cohort(query: $query) { subjects { value } } }"
THREE_TESLA = {"hasSeries": {"range": {"field": "field_strength_t", "gte": 3}}}
GOOD_ORCID, BAD_ORCID = "0000-0003-1419-2405", "0000-0003-1419-2404"  # the checksum differs


@pytest.fixture(scope="module")
def registrar() -> Iterator[tuple[DataCiteContract, str]]:
    contract = DataCiteContract()
    contract.add_repository(REPOSITORY, PASSWORD, PREFIX)
    with serve(contract) as url:
        yield contract, url


@pytest.fixture(scope="module")
def node(
    tmp_path_factory: pytest.TempPathFactory, registrar: tuple[DataCiteContract, str]
) -> Iterator[Node]:
    node = web_node(
        tmp_path_factory.mktemp("publishing-node"),
        CATALOGUE_DOI_PROVIDER="datacite",
        CATALOGUE_DOI_PREFIX=PREFIX,
        CATALOGUE_DATACITE_URL=registrar[1],
        CATALOGUE_DATACITE_REPOSITORY_ID=REPOSITORY,
        CATALOGUE_DATACITE_PASSWORD=PASSWORD,
    )
    try:
        yield node
    finally:
        node.stop()


def researcher_token() -> str:
    now = int(time.time())
    claims = {"sub": "rita", "roles": ["researcher"], "iat": now, "exp": now + 3600}
    return jwt.encode(claims, SECRET, "HS256")


def sign_in(page: Page, token: str, who: str) -> None:
    page.locator("#token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-status")).to_contain_text(f"Signed in as {who}")


def confirm(page: Page, action: str) -> None:
    page.get_by_role("button", name=action, exact=True).click()
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_be_hidden()


def shown_state(page: Page) -> Any:
    return expect(page.locator("#doi-state [data-state]"))


def dataset(node: Node, key: str) -> dict[str, Any]:
    answer: dict[str, Any] = node.query(DATASET, key=admin_token(), variables={"key": key})
    return answer["dataset"]  # type: ignore[no-any-return]


def build_cohort_and_create(node: Node, page: Page) -> None:
    page.goto(node.url)
    sign_in(page, admin_token(), "ada")
    page.get_by_role("button", name="Add a series group").click()
    page.locator("#g0c0-field").select_option("field_strength_t")
    page.locator("#g0c0-op").select_option("gte")
    page.locator("#g0c0-value").fill("3")
    expect(page).to_have_url(re.compile(r"[?&]g="))
    page.get_by_role("link", name="Create dataset from this cohort").click()
    expect(page).to_have_url(re.compile(r"/dataset-new\.html\?g="))
    expect(page.locator("#criteria-list")).to_contain_text("Field strength (T) at least 3")
    expect(page.locator("#cohort-size")).to_contain_text("subjects")
    page.locator("#f-title").fill("Brain MR at 3 T")
    expect(page.locator("#f-slug")).to_have_value("brain-mr-at-3-t")
    screenshot(page, "dataset-new")
    page.get_by_role("button", name="Create dataset").click()
    expect(page).to_have_url(re.compile(r"/dataset\.html\?id="))


def fill_metadata(page: Page, orcid: str) -> None:
    page.locator("#f-creator-0-name").fill("Fenner, Martin")
    page.locator("#f-creator-0-orcid").fill(orcid)
    page.locator("#f-creator-0-affiliation").fill("DataCite")
    page.locator("#f-license").fill("CC-BY-4.0")
    page.locator("#f-keywords").fill("neuroimaging, MR")
    page.locator("#f-access-alpha-who").fill("researchers with an approved proposal")
    page.locator("#f-access-alpha-how").fill("the data access committee")


def test_an_admin_publishes_a_cohort_as_a_dataset_with_a_datacite_doi(
    node: Node, registrar: tuple[DataCiteContract, str], page: Page
) -> None:
    contract = registrar[0]
    build_cohort_and_create(node, page)
    made = dataset(node, "brain-mr-at-3-t")
    cohort = node.query(COHORT, key=admin_token(), variables={"query": {"filter": THREE_TESLA}})
    # the cohort in the page, frozen: its subjects are the dataset's
    assert made["datasheet"]["subjects"]["value"] == cohort["cohort"]["subjects"]["value"] > 0
    expect(page.locator("#datasheet-totals")).to_contain_text(
        str(made["datasheet"]["subjects"]["value"])
    )

    fill_metadata(page, "0000-0003-1419")
    expect(page.locator("#f-creator-0-orcid-hint")).to_contain_text("Not yet an ORCID iD")
    page.get_by_role("button", name="Save metadata").click()  # the browser sees the shape
    expect(page.locator("#f-creator-0-orcid-error")).to_contain_text("four groups of four digits")
    fill_metadata(page, BAD_ORCID)  # the node sees the checksum
    page.locator("#f-subject-search").fill("brain")
    page.locator("#subject-suggestions button[data-term='SCTID:12738006']").click()
    expect(page.locator("#f-subjects [data-subject]")).to_contain_text("Brain")
    page.get_by_role("button", name="Save metadata").click()
    summary = page.locator("#metadata-form-errors")
    expect(summary).to_be_focused()  # the node's located error, shown by its field
    expect(summary).to_contain_text("Creator 1 ORCID iD")
    expect(page.locator("#f-creator-0-orcid-error")).to_contain_text("checksum")
    expect(page.locator("#f-creator-0-orcid")).to_have_attribute("aria-invalid", "true")
    found = violations(page)  # the filled form, its errors shown: still accessible
    assert not found, described(found)

    page.locator("#f-creator-0-orcid").fill(GOOD_ORCID)
    page.get_by_role("button", name="Save metadata").click()
    expect(page.locator("#status")).to_have_text("Metadata saved.")
    saved = dataset(node, "brain-mr-at-3-t")["metadata"]
    assert saved["creators"][0]["orcid"] == GOOD_ORCID and saved["license"] == "CC-BY-4.0"
    assert saved["subjects"][0]["iri"] == "http://snomed.info/id/12738006"
    assert saved["access_conditions"][0]["site"] == "alpha"

    confirm(page, "Reserve DOI")
    shown_state(page).to_have_attribute("data-state", "RESERVED")
    concept = dataset(node, "brain-mr-at-3-t")["conceptDoi"]
    assert concept.startswith(PREFIX) and contract.dois[concept]["state"] == "draft"
    confirm(page, "Publish")
    shown_state(page).to_have_attribute("data-state", "FINDABLE")
    expect(page.locator("#concept-doi")).to_have_text(concept)
    screenshot(page, "dataset-edit")

    published = dataset(node, "brain-mr-at-3-t")
    version = published["versions"][0]
    assert (published["state"], version["state"]) == ("FINDABLE", "FINDABLE")
    registered = contract.dois[version["doi"]]
    assert registered["state"] == contract.dois[concept]["state"] == "findable"
    creator = registered["creators"][0]
    assert creator["nameIdentifiers"][0]["nameIdentifier"] == f"https://orcid.org/{GOOD_ORCID}"

    with page.expect_download() as download:
        page.locator("a[data-manifest=csv]").click()
    assert download.value.suggested_filename == "brain-mr-at-3-t-manifest.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert len(rows) == version["members"] > 0
    assert all(r["access_url"].startswith("https://pacs.alpha.example/series/") for r in rows)

    page.get_by_role("link", name="Public landing page").click()
    expect(page.locator("h1")).to_have_text("Brain MR at 3 T")
    expect(page.locator("#cite")).to_contain_text("Fenner")
    expect(page.locator("#cite")).to_contain_text(concept)

    page.goto(f"{node.url}/datasets.html")
    row = page.locator("#datasets-table tr[data-dataset=brain-mr-at-3-t]")
    expect(row).to_contain_text("findable")
    expect(row).to_contain_text(concept)
    screenshot(page, "datasets")

    row.get_by_role("link", name="Brain MR at 3 T").click()
    confirm(page, "New version")  # the cohort query run again: version 2, a draft
    expect(page.locator("#versions-table tr[data-version='2']")).to_contain_text("not yet")
    confirm(page, "Hide")
    shown_state(page).to_have_attribute("data-state", "HIDDEN")
    assert contract.dois[concept]["state"] == "registered"
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet: one column, no overflow
    assert page.evaluate("document.documentElement.scrollWidth") <= 768

    page.get_by_role("button", name="Withdraw…").click()
    page.locator("#reason").fill("consent withdrawn at one site")
    page.locator("#confirm").get_by_role("button", name="Confirm").click()
    expect(page.locator("#doi")).to_contain_text("consent withdrawn at one site")
    expect(page.locator("[data-action]")).to_have_count(0)  # nothing is left to do


PUBLISH = """mutation($id: ID!, $metadata: JSON!) {
  updateDatasetMetadata(id: $id, metadata: $metadata) { id }
  publishDataset(id: $id) { state } }"""
METADATA = {"creators": [{"name": "Fenner, Martin", "orcid": GOOD_ORCID}], "license": "MIT"}


SHEET = """query($key: String!) { dataset(key: $key) { datasheet {
  subjects { suppressed atLeast display } } } }"""


def create(node: Node, slug: str, cohort: dict[str, Any]) -> str:
    document = """mutation($input: DatasetInput!) { createDataset(input: $input) { id } }"""
    spec = {"slug": slug, "title": slug.title(), "query": cohort}
    made = node.query(document, key=admin_token(), variables={"input": spec})
    return str(made["createDataset"]["id"])


def test_others_see_published_datasets_and_no_publishing_controls(node: Node, page: Page) -> None:
    public = create(node, "shared-set", {})  # every subject: the aggregate-only ones counted
    node.query(PUBLISH, key=admin_token(), variables={"id": public, "metadata": METADATA})
    create(node, "draft-set", {"filter": THREE_TESLA})

    page.goto(node.url)
    sign_in(page, researcher_token(), "rita")
    expect(page.locator("#create-dataset")).to_be_hidden()
    page.goto(f"{node.url}/datasets.html")
    expect(page.locator("#datasets-table tr[data-dataset=shared-set]")).to_contain_text("findable")
    expect(page.locator("#datasets-table tr[data-dataset=draft-set]")).to_have_count(0)

    page.goto(f"{node.url}/dataset.html?id={public}")
    expect(page.locator("#metadata-view")).to_contain_text("Fenner, Martin")
    expect(page.locator("#datasheet-totals")).to_be_visible()
    # the aggregate-only members are counted for others as in every aggregate: suppressed
    sheet = node.query(SHEET, key=researcher_token(), variables={"key": "shared-set"})
    subjects = sheet["dataset"]["datasheet"]["subjects"]
    assert subjects["suppressed"]
    expect(page.locator("#datasheet-totals dd").first).to_have_text(shown(subjects))
    expect(page.locator("#suppression-note")).to_contain_text("Fewer than 5")
    expect(page.locator("[data-action]")).to_have_count(0)
    expect(page.locator("#metadata-form")).to_have_count(0)
    page.goto(f"{node.url}/dataset-new.html?g=[]")
    expect(page.locator("#error")).to_contain_text("Only administrators create datasets")
    expect(page.locator("#create")).to_be_hidden()


def test_create_clicked_before_the_page_knows_the_cohorts_fields_waits_for_them(
    node: Node, page: Page
) -> None:
    held: list[Route] = []

    def hold_fields(route: Route) -> None:
        if "searchFields" in (route.request.post_data or "") and not held:
            held.append(route)
        else:
            route.continue_()

    page.goto(node.url)
    sign_in(page, admin_token(), "ada")
    page.route("**/graphql", hold_fields)
    criteria = quote(json.dumps([["field_strength_t", "gte", "3"]]))  # one series group
    page.goto(f"{node.url}/dataset-new.html?g={criteria}")
    page.locator("#f-title").fill("Asked for early")
    page.get_by_role("button", name="Create dataset").click()
    while not held:
        page.wait_for_timeout(50)
    with page.expect_request(lambda r: "createDataset" in (r.post_data or "")) as created:
        held[0].continue_()
    assert sent(created.value)["variables"]["input"]["query"]["filter"] == THREE_TESLA
    expect(page).to_have_url(re.compile(r"/dataset\.html\?id="))
