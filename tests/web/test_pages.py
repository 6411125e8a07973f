"""The web UI against a real node in Chromium: what it shows is what the GraphQL API answers."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import APIResponse, Page, Request, Route, expect

from tests.federation.nodes import Node
from tests.web.conftest import admin_token, screenshot

pytestmark = pytest.mark.browser

COUNTS = """query($query: CohortInput!) { cohort(query: $query) { threshold
  sites { collections { title subjects { suppressed atLeast display } } } } }"""


def shown(count: dict[str, Any]) -> str:
    """How the page writes a count: a suppressed one holding known records reads "more than n"."""
    if count["suppressed"] and count["atLeast"] > 0:
        return f"more than {count['atLeast']}"
    return str(count["display"])


def sent(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.post_data or "{}")
    return body


def replay(node: Node, request: Request) -> dict[str, Any]:
    """The page's own cohort request, asked of the API directly with the page's credential."""
    body, bearer = sent(request), request.headers.get("authorization", "")
    key = bearer.removeprefix("Bearer ") or None
    answer: dict[str, Any] = node.query(body["query"], key=key, variables=body["variables"])[
        "cohort"
    ]
    return answer


def totals(page: Page) -> list[str]:
    return [page.locator(f"#totals [data-count={k}]").inner_text() for k in LEVELS]


LEVELS = ("subjects", "studies", "series")


def is_cohort(request: Request) -> bool:
    return request.url.endswith("/graphql") and "cohort(" in (request.post_data or "")


def test_a_series_criterion_gives_the_apis_counts_and_lives_in_the_url(
    node: Node, page: Page
) -> None:
    with page.expect_request(is_cohort) as first:
        page.goto(node.url)
    everyone = replay(node, first.value)
    expect(page.locator("#totals [data-count=subjects]")).to_have_text(shown(everyone["subjects"]))

    page.get_by_role("button", name="Add a series group").focus()
    page.keyboard.press("Enter")  # the builder works from the keyboard
    page.locator("#g0c0-field").select_option("field_strength_t")
    page.locator("#g0c0-op").select_option("gte")
    with page.expect_request(is_cohort) as narrowed:
        page.locator("#g0c0-value").fill("3")
    assert sent(narrowed.value)["variables"]["query"]["filter"] == {
        "hasSeries": {"range": {"field": "field_strength_t", "gte": 3}}
    }
    strong = replay(node, narrowed.value)
    assert strong["subjects"] != everyone["subjects"]  # the criterion narrows the cohort
    expect(page.locator("#totals [data-count=subjects]")).to_have_text(shown(strong["subjects"]))
    assert totals(page) == [shown(strong[k]) for k in LEVELS]

    group = parse_qs(urlsplit(page.url).query)["g"]
    assert [json.loads(g) for g in group] == [[["field_strength_t", "gte", "3"]]]
    page.goto(page.url)  # a bookmarked cohort opens as it was left
    expect(page.locator("#g0c0-field")).to_have_value("field_strength_t")
    expect(page.locator("#g0c0-value")).to_have_value("3")
    expect(page.locator("#totals [data-count=subjects]")).to_have_text(shown(strong["subjects"]))
    assert totals(page) == [shown(strong[k]) for k in LEVELS]
    link = page.locator("#results-list a.access").first
    expect(link).to_have_attribute("href", re.compile(r"^https://pacs\.alpha\.example/series/"))
    screenshot(page, "cohort-builder")


def test_a_term_offered_for_the_free_text_filters_on_its_concept(node: Node, page: Page) -> None:
    page.goto(node.url)
    page.locator("#text").fill("hea")
    head = page.locator("#term-suggestions button[data-term='SCTID:69536005']")
    expect(head).to_be_visible()
    with page.expect_request(is_cohort) as chosen:
        head.click()
    assert sent(chosen.value)["variables"]["query"]["filter"] == {
        "hasSeries": {
            "concept": {
                "field": "body_part",
                "iri": "http://snomed.info/id/69536005",
                "includeDescendants": True,
            }
        }
    }
    answer = replay(node, chosen.value)
    assert answer["subjects"]["atLeast"] > 0  # brain series are found under head
    expect(page.locator("#concepts")).to_contain_text("Body part: Head or below")
    expect(page.locator("#totals [data-count=subjects]")).to_have_text(shown(answer["subjects"]))
    assert "t=" in page.url


def test_what_is_typed_before_the_page_is_ready_is_kept_and_offered_terms(
    node: Node, page: Page
) -> None:
    held: list[Route] = []

    def hold_fields(route: Route) -> None:
        if "searchFields" in (route.request.post_data or ""):
            held.append(route)
        else:
            route.continue_()

    page.route("**/graphql", hold_fields)
    page.goto(node.url)
    page.locator("#text").fill("hea")
    page.wait_for_timeout(600)  # the page's pause after typing ends while the fields are held
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/graphql")
    expect(page.locator("#text")).to_have_value("hea")
    expect(page.locator("#term-suggestions button[data-term='SCTID:69536005']")).to_be_visible()
    assert parse_qs(urlsplit(page.url).query)["q"] == ["hea"]


def test_suppressed_counts_read_fewer_than_k_with_the_reason(node: Node, page: Page) -> None:
    answer = node.query(COUNTS, variables={"query": {}})["cohort"]
    registry = next(
        c for s in answer["sites"] for c in s["collections"] if c["title"] == "Registry"
    )
    assert registry["subjects"]["suppressed"], "the aggregate-only collection should be small"

    page.goto(node.url)
    row = page.locator("#site-table tr.collection", has_text="Registry")
    expect(row.locator("td").first).to_have_text(f"fewer than {answer['threshold']}")
    expect(page.locator("#suppression-note")).to_contain_text(f"Fewer than {answer['threshold']}")
    screenshot(page, "cohort-suppressed")


def test_the_dashboard_lists_sources_and_lets_an_admin_start_a_harvest(
    node: Node, page: Page
) -> None:
    page.goto(f"{node.url}/harvest.html")
    for source in ("brain-mr", "registry"):
        row = page.locator(f"#sources-table tr[data-source={source}]")
        expect(row).to_contain_text("succeeded")
    expect(page.locator("button[data-start]")).to_have_count(0)  # not signed in

    page.locator("#token").fill(admin_token())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-status")).to_contain_text("Signed in as ada")
    runs = page.locator("#runs-table tbody tr").filter(has_text="registry")
    expect(page.locator("button[data-start=registry]")).to_be_enabled()  # the admin's tables
    before = runs.count()
    page.locator("button[data-start=registry]").click()
    expect(
        page.get_by_role("status").filter(has_text="Harvest of registry started")
    ).to_be_visible()
    # the page follows the run until it is listed, however long a busy node takes to begin it
    expect(runs).to_have_count(before + 1, timeout=300_000)
    screenshot(page, "harvest-dashboard")


RUN_OF_REGISTRY = """{ harvestRuns(source: "registry", first: 1) {
  edges { node { startedAt finishedAt } } } }"""


def last_registry_run(node: Node) -> dict[str, Any]:
    found: dict[str, Any] = node.query(RUN_OF_REGISTRY, key=admin_token())["harvestRuns"]
    return found["edges"][0]["node"] if found["edges"] else {}


def test_a_run_begun_and_ended_between_the_pages_two_answers_is_still_listed(
    node: Node, page: Page
) -> None:
    """The page asks for sources and runs at once; a short run can start after the runs answer
    and end before the sources answer, which then shows it finished but the runs table lacks it."""
    runs_answer: list[APIResponse] = []
    held: list[Route] = []
    clicked = False

    def network(route: Route) -> None:
        query = sent(route.request).get("query", "")
        if "harvestRuns(" in query:
            if not clicked:
                runs_answer[:] = [route.fetch()]
            route.fulfill(response=runs_answer[0])  # after the click: as if answered before the run
        elif "sources(" in query and clicked and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/graphql", network)
    page.goto(f"{node.url}/harvest.html")
    page.locator("#token").fill(admin_token())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-status")).to_contain_text("Signed in as ada")
    runs = page.locator("#runs-table tbody tr").filter(has_text="registry")
    expect(page.locator("button[data-start=registry]")).to_be_enabled(timeout=120_000)
    before = runs.count()
    previous = last_registry_run(node)

    clicked = True
    page.locator("button[data-start=registry]").click()
    expect(
        page.get_by_role("status").filter(has_text="Harvest of registry started")
    ).to_be_visible()
    while not held:
        page.wait_for_timeout(100)
    while (latest := last_registry_run(node)) == previous or latest["finishedAt"] is None:
        page.wait_for_timeout(200)  # the run the click started ends before the sources answer
    held[0].continue_()
    page.unroute("**/graphql")  # before the page's next look, two seconds on
    expect(runs).to_have_count(before + 1, timeout=60_000)
