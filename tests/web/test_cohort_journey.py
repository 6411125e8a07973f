"""A researcher's journey in Chromium on the demo's generated multi-site catalogue (`catalogue
demo --no-serve` at a small scale, then served): a cohort of two series groups and a diagnosis
whose counts are the API's, a listed series fetched at its site (the demo's XNAT), the cohort
saved and reopened, a dataset made from it and published on the DataCite contract server with a
landing page that works without JavaScript; and, anonymous, the aggregate-only site counted but
never listed."""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from api.demo.sources import demo_xnat, population
from api.demo.xnat_server import USERS, XnatServer
from tests.federation.nodes import Node
from tests.harvesters.orthanc import free_ports
from tests.publishing.datacite_server import DataCiteContract
from tests.web.conftest import SECRET, admin_token, screenshot
from tests.web.test_pages import LEVELS, is_cohort, replay, sent, shown, totals
from tests.web.test_publishing_flow import (
    PASSWORD,
    PREFIX,
    REPOSITORY,
    confirm,
    registrar,
    shown_state,
    sign_in,
)

pytestmark = pytest.mark.browser
__all__ = ["registrar"]  # the DataCite contract server: a module fixture, shared with the flow

SCALE = "0.03"  # about 70 people at three sites, as in the test of `catalogue demo`
MS = "https://icd.who.int/browse10/2019/en#/G35"
FLAIR = "https://w3id.org/imaging-catalogue/sequence/FLAIR"
#: "means FLAIR" is the concept: every site's wording of it (north writes t2_tirm_tra_dark-fluid)
FLAIR_3T = [["sequence_type", "concept", "FLAIR", FLAIR], ["field_strength_t", "gte", "3"]]
CONTRAST = [["contrast_agent", "is", "true"]]
#: the journey's cohort as the builder writes it in the address
CRITERIA = {
    "t": [json.dumps(["diagnosis", MS, "Multiple sclerosis"], separators=(",", ":"))],
    "g": [json.dumps(g, separators=(",", ":")) for g in (FLAIR_3T, CONTRAST)],
}
TITLE = "MS with a 3 T FLAIR and a contrast series"
CREATOR = "Demo Consortium"


@pytest.fixture(scope="module")
def xnat_port() -> int:
    [port] = free_ports(1)  # the demo's XNAT, then the test's, on it: its records' address
    return port


@pytest.fixture(scope="module")
def node(
    tmp_path_factory: pytest.TempPathFactory,
    registrar: tuple[DataCiteContract, str],
    xnat_port: int,
) -> Iterator[Node]:
    """The demo's catalogue, set up by `catalogue demo --no-serve` in the node's data directory,
    served with DOIs at the DataCite contract server."""
    node = Node(
        tmp_path_factory.mktemp("journey-node"),
        "north",
        CATALOGUE_AUTH_HS256_SECRET=SECRET,
        CATALOGUE_DOI_PROVIDER="datacite",
        CATALOGUE_DOI_PREFIX=PREFIX,
        CATALOGUE_DATACITE_URL=registrar[1],
        CATALOGUE_DATACITE_REPOSITORY_ID=REPOSITORY,
        CATALOGUE_DATACITE_PASSWORD=PASSWORD,
    )
    node.cli("demo", "--no-serve", "--scale", SCALE, "--xnat-port", str(xnat_port))
    shutil.copyfile(node.root / "var" / "demo" / "demo-sources.yaml", node.sources_file)
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def xnat(node: Node, xnat_port: int) -> Iterator[XnatServer]:
    """South's XNAT as the demo served it while harvesting (the same generated site)."""
    server = XnatServer(demo_xnat(population(float(SCALE))), port=xnat_port)
    with server.running():
        yield server


def expect_counts(page: Page, answer: dict[str, Any]) -> None:
    """The totals and every site's row read as the API's answer."""
    expect(page.locator("#totals [data-count=subjects]")).to_have_text(shown(answer["subjects"]))
    assert totals(page) == [shown(answer[k]) for k in LEVELS]
    for site in answer["sites"]:
        cells = page.locator(f"#site-table tr[data-site={site['slug']}] td")
        assert cells.all_inner_texts()[:3] == [shown(site[k]) for k in LEVELS], site["slug"]


def held_by(answer: dict[str, Any]) -> set[str]:
    """The sites with a subject in the cohort (a suppressed count holds some)."""
    return {s["slug"] for s in answer["sites"] if str(s["subjects"]["display"]) != "0"}


def add_group(page: Page, conditions: list[list[str]]) -> None:
    """A series group, from the keyboard: the button, then each condition's field, op, value."""
    index = page.locator("#groups fieldset.group").count()
    page.get_by_role("button", name="Add a series group").focus()
    page.keyboard.press("Enter")
    group = page.locator(f"#groups fieldset.group[data-group='{index}']")
    for at, (field, op, value, *_) in enumerate(conditions):
        if at:
            group.get_by_role("button", name="Add a condition").press("Enter")
        row = f"#g{index}c{at}"
        page.locator(f"{row}-field").select_option(field)
        page.locator(f"{row}-op").select_option(op)
        value_box = page.locator(f"{row}-value")
        if value_box.evaluate("e => e.tagName") == "SELECT":
            value_box.select_option(value)
        else:
            value_box.fill(value)


def test_a_cohort_of_two_series_groups_and_a_diagnosis_is_the_apis_and_is_saved(
    node: Node, page: Page
) -> None:
    page.goto(node.url)
    sign_in(page, admin_token(), "ada")
    add_group(page, FLAIR_3T)
    add_group(page, CONTRAST)
    with page.expect_request(is_cohort) as either:
        page.get_by_label("at least one group").check()
    assert "or" in sent(either.value)["variables"]["query"]["filter"]
    answer = replay(node, either.value)
    expect_counts(page, answer)
    assert len(held_by(answer)) > 1  # the series criteria find subjects at several sites
    screenshot(page, "journey-series-groups")

    with page.expect_request(is_cohort):
        page.get_by_label("every group").check()
    page.locator("#text").press_sequentially("multiple scl")  # the text is searched, too
    offered = page.locator("#term-suggestions button[data-term='ICD10WHO:G35']")
    expect(offered).to_be_visible()
    with page.expect_request(is_cohort) as chosen:
        offered.press("Enter")
    query = sent(chosen.value)["variables"]["query"]
    assert not query.get("text")
    clauses = query["filter"]["and"]
    assert {"concept": {"field": "diagnosis", "iri": MS, "includeDescendants": True}} in clauses
    assert sum("hasSeries" in c for c in clauses) == 2
    ms = replay(node, chosen.value)
    expect_counts(page, ms)
    assert ms["subjects"]["value"] > 0 and held_by(ms) == {"south"}  # diagnoses: south's only
    assert parse_qs(urlsplit(page.url).query) == CRITERIA
    screenshot(page, "journey-cohort")

    page.locator("#cohort-name").fill(TITLE)
    page.get_by_role("button", name="Save this cohort").click()
    expect(page.locator("#saved-status")).to_have_text(f"Saved “{TITLE}”.")
    page.reload()
    page.locator("#reset").click()
    expect(page.locator("#g0c0-field")).to_have_count(0)
    with page.expect_request(is_cohort) as reopened:
        page.get_by_role("link", name=TITLE).click()
    assert sent(reopened.value)["variables"]["query"]["filter"] == query["filter"]
    assert parse_qs(urlsplit(page.url).query) == CRITERIA
    expect(page.locator("#g1c0-field")).to_have_value("contrast_agent")
    expect(page.locator("#concepts")).to_contain_text("Multiple sclerosis")
    expect_counts(page, ms)
    screenshot(page, "journey-saved")


def test_a_listed_series_is_fetched_at_its_site_by_an_authorised_user(
    node: Node, xnat: XnatServer, browser: Browser, page: Page
) -> None:
    page.goto(f"{node.url}/?view=series")
    sign_in(page, admin_token(), "ada")
    collections = page.locator("#facets fieldset.facet[data-field=collection]")
    collections.get_by_label(re.compile("^Neuro-oncology")).check()
    link = page.locator("#results-list a.access").first
    expect(link).to_have_attribute("href", re.compile(rf"^{xnat.url}/data/experiments/.+/scans/"))
    expect(link).to_have_attribute("rel", "noopener")  # the site's page cannot reach back
    address = link.get_attribute("href") or ""
    screenshot(page, "journey-site-links")

    # the address is the site's own: it refuses anyone the site does not know ...
    assert page.request.get(address).status == 401
    # ... and gives the series to one of its users, following the link from the page (the
    # browser holds the user's credential for the site, as after signing in there)
    basic = "Basic " + base64.b64encode(":".join(next(iter(USERS.items()))).encode()).decode()
    context = browser.new_context()
    context.route(
        f"{xnat.url}/**",
        lambda route: route.continue_(headers={**route.request.headers, "Authorization": basic}),
    )
    try:
        member = context.new_page()
        member.goto(f"{node.url}/?view=series")
        sign_in(member, admin_token(), "ada")
        member.locator("#facets fieldset.facet[data-field=collection]").get_by_label(
            re.compile("^Neuro-oncology")
        ).check()
        expect(member.locator("#results-list a.access").first).to_have_attribute("href", address)
        with member.expect_navigation() as opened:
            member.locator("#results-list a.access").first.click()
        response = opened.value
        assert response is not None and response.status == 200
        scan = json.loads(response.text())["items"][0]["data_fields"]
        assert address.endswith(f"/scans/{scan['ID']}")
    finally:
        context.close()


def test_the_cohort_becomes_a_published_dataset_with_a_landing_page_without_javascript(
    node: Node, registrar: tuple[DataCiteContract, str], browser: Browser, page: Page
) -> None:
    contract = registrar[0]
    page.goto(node.url)
    sign_in(page, admin_token(), "ada")
    page.goto(f"{node.url}/?{urlencode(CRITERIA, doseq=True)}")  # the saved cohort's address
    # settled first: an address the builder rewrites later cancels a navigation not yet committed
    expect(page.locator("#summary")).not_to_have_attribute("aria-busy", "true")
    page.get_by_role("link", name="Create dataset from this cohort").click()
    expect(page.locator("#criteria-list")).to_contain_text("Multiple sclerosis")
    page.locator("#f-title").fill(TITLE)
    page.get_by_role("button", name="Create dataset").click()
    expect(page).to_have_url(re.compile(r"/dataset\.html\?id="))
    page.locator("#f-creator-0-name").fill(CREATOR)
    page.locator("#f-license").fill("CC-BY-4.0")
    page.get_by_role("button", name="Save metadata").click()
    expect(page.locator("#status")).to_have_text("Metadata saved.")
    confirm(page, "Publish")
    shown_state(page).to_have_attribute("data-state", "FINDABLE")
    concept = page.locator("#concept-doi").inner_text()
    assert concept.startswith(PREFIX) and contract.dois[concept]["state"] == "findable"
    landing = page.locator("#landing-link").get_attribute("href") or ""
    screenshot(page, "journey-dataset")

    context = browser.new_context(java_script_enabled=False)
    try:
        reader = context.new_page()
        reader.goto(node.url + landing)
        expect(reader.locator("h1")).to_have_text(TITLE)
        expect(reader.locator("#cite")).to_contain_text(CREATOR)
        expect(reader.locator("#cite")).to_contain_text(concept)
        screenshot(reader, "journey-landing-page")
    finally:
        context.close()


def test_anonymous_visitors_see_the_aggregate_only_site_counted_never_listed(
    node: Node, page: Page
) -> None:
    with page.expect_request(is_cohort) as everyone:
        page.goto(node.url)
    answer = replay(node, everyone.value)
    expect_counts(page, answer)
    east = next(s for s in answer["sites"] if s["slug"] == "east")
    rows = page.locator("#site-table tr.collection")
    for collection in east["collections"]:
        row = rows.filter(has_text=collection["title"]).locator("td")
        assert row.first.inner_text() == shown(collection["subjects"]), collection["title"]

    with page.expect_request(is_cohort) as narrowed:
        page.locator("#facets fieldset.facet[data-field=site]").get_by_label(
            re.compile("^East|^east")
        ).check()
    at_east = replay(node, narrowed.value)
    expect_counts(page, at_east)
    cells = [b["count"] for f in at_east["facets"] for b in f["buckets"]]
    suppressed = {shown(c) for c in cells if c["suppressed"]}
    assert suppressed, "the aggregate-only site's small cells are suppressed"
    for words in suppressed:  # "fewer than 5", or "more than n"
        expect(page.locator("#facets")).to_contain_text(words)
    expect(page.locator("#result-caption")).to_have_text("No subjects you may see match.")
    expect(page.locator("#results-list li")).to_have_count(0)
    screenshot(page, "journey-aggregate-only")
