"""Saved cohorts in the browser: signed in, a saved cohort is kept on the node for that person
only and reopens its criteria; anonymous, the page says they stay in this browser."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from playwright.sync_api import Page, Request, expect

from tests.federation.nodes import Node
from tests.web.conftest import SECRET

pytestmark = pytest.mark.browser

SAVED = "{ savedCohorts { edges { node { name query urlState } } } }"
# Women with a series at 3 T or more, as the page writes the criteria
CRITERIA = "?f=sex%3AF&g=%5B%5B%22field_strength_t%22%2C%22gte%22%2C%223%22%5D%5D"


def token(subject: str) -> str:
    now = int(time.time())
    claims = {"sub": subject, "roles": ["researcher"], "iat": now, "exp": now + 3600}
    return jwt.encode(claims, SECRET, "HS256")


def is_cohort(request: Request) -> bool:
    return request.url.endswith("/graphql") and "cohort(" in (request.post_data or "")


def sent_query(request: Request) -> dict[str, Any]:
    query: dict[str, Any] = json.loads(request.post_data or "{}")["variables"]["query"]
    return query


def sign_in(page: Page, key: str) -> None:
    page.locator("#token").fill(key)
    page.get_by_role("button", name="Sign in").click()


def test_a_saved_cohort_is_kept_on_the_node_and_reopens_its_criteria(
    node: Node, page: Page
) -> None:
    page.goto(node.url)
    expect(page.locator("#saved-where")).to_contain_text("Kept in this browser only")
    ann = token("ann")
    sign_in(page, ann)
    expect(page.locator("#saved-where")).to_contain_text("Kept on this node for ann")
    with page.expect_request(is_cohort) as asked:
        page.goto(node.url + "/" + CRITERIA)
    cohort = sent_query(asked.value)
    page.locator("#cohort-name").fill("Women at 3 T")
    page.get_by_role("button", name="Save this cohort").click()
    expect(page.locator("#saved-status")).to_have_text("Saved “Women at 3 T”.")

    stored = [e["node"] for e in node.query(SAVED, key=ann)["savedCohorts"]["edges"]]
    assert [(c["name"], c["urlState"]) for c in stored] == [("Women at 3 T", CRITERIA)]
    assert stored[0]["query"] == {"text": None, "filter": cohort["filter"]}
    assert node.query(SAVED, key=token("bob"))["savedCohorts"]["edges"] == []

    page.locator("#reset").click()  # clear the criteria, then reopen the saved ones
    expect(page.locator("#g0c0-field")).to_have_count(0)
    with page.expect_request(is_cohort) as reopened:
        page.get_by_role("link", name="Women at 3 T").click()
    assert sent_query(reopened.value)["filter"] == cohort["filter"]
    assert parse_qs(urlsplit(page.url).query) == parse_qs(CRITERIA[1:])
    expect(page.locator("#g0c0-field")).to_have_value("field_strength_t")
    expect(page.locator("#g0c0-value")).to_have_value("3")

    page.get_by_role("button", name="Forget Women at 3 T").click()
    expect(page.locator("#saved-list li")).to_have_count(0)
    assert node.query(SAVED, key=ann)["savedCohorts"]["edges"] == []
