"""The cohort builder's body-part tree and charts against a real node in Chromium: the tree is
the API's facet on the concept closure arranged by the ontology's parents, choosing a node
filters on the concept and what is below it, and every bar is a count as the API gives it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.federation.nodes import Node
from tests.web.conftest import screenshot
from tests.web.test_pages import is_cohort, replay, sent, shown

pytestmark = pytest.mark.browser

SCT = "http://snomed.info/id/"
HEAD, BRAIN = SCT + "69536005", SCT + "12738006"
PARENTS = "query($id: String!) { term(id: $id) { parents } }"


def facet(answer: dict[str, Any], field: str) -> list[dict[str, Any]]:
    found = next(f for f in answer["facets"] if f["field"] == field)
    return [b for b in found["buckets"] if b["count"]["suppressed"] or b["count"]["value"]]


def node_item(page: Page, iri: str) -> Locator:
    return page.locator(f"fieldset[data-field=body_part_closure] li[data-iri='{iri}']")


def test_the_body_part_facet_is_the_ontology_tree_of_the_apis_counts(
    node: Node, page: Page
) -> None:
    with page.expect_request(is_cohort) as first:
        page.goto(node.url)
    buckets = facet(replay(node, first.value), "body_part_closure")
    iris = {b["value"] for b in buckets}
    assert {HEAD, BRAIN} <= iris
    for bucket in buckets:
        item = node_item(page, bucket["value"]).first
        expect(item.locator(":scope > .node .count")).to_have_text(shown(bucket["count"]))
        parents = node.query(PARENTS, variables={"id": bucket["value"]})["term"]["parents"]
        for parent in set(parents) & iris:  # under each parent the facet holds
            below = node_item(page, parent).first.locator(f"li[data-iri='{bucket['value']}']")
            expect(below.first).to_be_attached()
    # Brain is below Head, however many levels lie between
    expect(node_item(page, HEAD).first.locator(f"li[data-iri='{BRAIN}']").first).to_be_attached()

    # from the keyboard: close Head's branch, open it again, choose Head
    twisty = node_item(page, HEAD).locator(":scope > .node button.twisty")
    twisty.focus()
    page.keyboard.press("Enter")
    expect(twisty).to_have_attribute("aria-expanded", "false")
    expect(node_item(page, BRAIN)).to_be_hidden()
    page.keyboard.press("Space")
    expect(twisty).to_have_attribute("aria-expanded", "true")
    expect(node_item(page, BRAIN)).to_be_visible()
    page.keyboard.press("Tab")
    with page.expect_request(is_cohort) as chosen:
        page.keyboard.press("Space")
    assert sent(chosen.value)["variables"]["query"]["filter"] == {
        "hasSeries": {"concept": {"field": "body_part", "iri": HEAD, "includeDescendants": True}}
    }
    answer = replay(node, chosen.value)
    expect(page.locator("#totals [data-count=subjects]")).to_have_text(shown(answer["subjects"]))
    expect(node_item(page, HEAD).locator(":scope > .node input")).to_be_checked()
    assert "t=" in page.url and "69536005" in page.url
    screenshot(page, "cohort-body-part-tree")

    # a second node is an alternative (OR), like two values of one facet
    brain = node_item(page, BRAIN).locator(":scope > .node input")
    with page.expect_request(is_cohort) as both:
        brain.check()
    assert sent(both.value)["variables"]["query"]["filter"] == {
        "hasSeries": {
            "or": [
                {"concept": {"field": "body_part", "iri": iri, "includeDescendants": True}}
                for iri in (HEAD, BRAIN)
            ]
        }
    }


def bars(page: Page, chart: str) -> list[str]:
    return page.locator(f"#{chart} g.row > title").all_text_contents()


def test_the_charts_draw_the_apis_counts_and_never_a_suppressed_value(
    node: Node, page: Page
) -> None:
    with page.expect_request(is_cohort) as first:
        page.goto(node.url)
    answer = replay(node, first.value)
    expect(page.locator("#chart-sites g.row")).to_have_count(len(answer["sites"]))
    assert bars(page, "chart-sites") == [
        f"{s['name']}: {shown(s['subjects'])}" for s in answer["sites"]
    ]
    sexes = facet(answer, "sex")
    assert bars(page, "chart-sex") == [f"{b['value']}: {shown(b['count'])}" for b in sexes]
    expect(page.locator("#chart-sex-desc")).to_have_text(
        "; ".join(f"{b['value']}: {shown(b['count'])}" for b in sexes)
    )
    ages = facet(answer, "age_years")
    expect(page.locator("#chart-age_years g.row")).to_have_count(len(ages))
    expect(page.locator("#chart-manufacturer g.row")).to_have_count(
        len(facet(answer, "manufacturer"))
    )

    suppressed = [b for b in sexes + ages if b["count"]["suppressed"]]
    assert suppressed, "the aggregate-only collection should make small counts"
    rows = page.locator("svg.chart g.row.suppressed")
    expect(rows.first).to_be_visible()
    for text in rows.locator("text.value").all_text_contents():
        assert text.startswith(("fewer than", "more than")), text
    for rect in rows.locator("rect").all():
        assert (rect.get_attribute("fill") or "").startswith("url(#")  # hatched
    screenshot(page, "cohort-builder-charts")
