"""Every page of the web UI under axe-core (WCAG 2.1 A and AA rules), anonymous and signed in
as an administrator; at tablet width nothing overflows sideways; the cohort builder's page
weight stays under 300 KB. Pages are found in `web/static/`, not listed here."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect

from tests.federation.nodes import Node
from tests.web.conftest import admin_token, screenshot

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
PAGES = sorted("/" if p.name == "index.html" else f"/{p.name}" for p in STATIC.glob("*.html"))
# axe-core as the axe-playwright-python package bundles it (no download at run time)
AXE = (files("axe_playwright_python") / "axe.min.js").read_text(encoding="utf-8")
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BLOCKING = {"serious", "critical"}
WEIGHT_LIMIT = 300_000


def name(path: str) -> str:
    return "cohort-builder" if path == "/" else Path(path).stem


def sign_in(page: Page) -> None:
    page.locator("#token").fill(admin_token())
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#session-status")).to_contain_text("Signed in as ada")


def settle(page: Page, node: Node, path: str) -> None:
    page.goto(f"{node.url}{path}")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("!document.querySelector('[aria-busy=true]')")


def violations(page: Page) -> list[dict[str, Any]]:
    page.evaluate(AXE)
    result: dict[str, Any] = page.evaluate("(options) => axe.run(document, options)", RULES)
    assert result["passes"], "axe-core checked nothing"
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def described(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:5]]}"
        for v in found
    )


@pytest.mark.parametrize("admin", [False, True], ids=["anonymous", "admin"])
@pytest.mark.parametrize("path", PAGES)
def test_no_serious_accessibility_violation(node: Node, page: Page, path: str, admin: bool) -> None:
    settle(page, node, path)
    if admin:
        sign_in(page)
        settle(page, node, path)
    found = violations(page)
    assert not found, described(found)


def test_the_pages_are_found() -> None:
    assert "/" in PAGES and "/harvest.html" in PAGES


def test_the_cohort_builder_with_its_controls_open_has_no_serious_violation(
    node: Node, page: Page
) -> None:
    settle(page, node, "/")
    page.locator("#results-list details").first.locator("summary").click()
    page.get_by_role("button", name="Add a series group").click()
    page.locator("#text").fill("hea")  # no record has this text: suggestions, no results
    expect(page.locator("#term-suggestions button").first).to_be_visible()
    found = violations(page)
    assert not found, described(found)


@pytest.mark.parametrize("path", PAGES)
def test_nothing_overflows_sideways_at_tablet_width(node: Node, page: Page, path: str) -> None:
    page.set_viewport_size({"width": 768, "height": 1024})
    settle(page, node, path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"{path} is {width} px wide at a 768 px viewport"
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
          .map((el) => el.tagName + (el.id ? '#' + el.id : ''))"""
    )
    assert not wide, f"{path}: past the right edge: {wide[:10]}"
    screenshot(page, f"{name(path)}-tablet")


def test_the_cohort_builder_weighs_under_300_kb(node: Node, page: Page) -> None:
    """All the HTML, CSS and JavaScript the page loads, uncompressed (the API's answers aside)."""
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    settle(page, node, "/")
    own = [r for r in responses if r.url.startswith(node.url) and not r.url.endswith("/graphql")]
    kinds = {r.url.rsplit(".", 1)[-1] for r in own}
    assert {"css", "js"} <= kinds  # the stylesheet and the modules were counted
    weight = sum(len(r.body()) for r in own)
    assert 0 < weight < WEIGHT_LIMIT, f"{weight} bytes"
