"""The curation queue page against a real node in Chromium: a curator accepts one mapping and
overrides another, the API then holds the decisions and the re-mapped records; anyone else is
told they need the curator role and sees no queue."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pydicom
import pytest
from playwright.sync_api import Page, expect

from harvesters.dicom.sample import write_sample_export
from tests.federation.nodes import Node
from tests.web.conftest import SECRET, harvest, screenshot
from tests.web.test_accessibility import described, violations

pytestmark = pytest.mark.browser

HEAD = "http://snomed.info/id/69536005"
T2 = "t2_tse_tra_p2"
QUEUE = """{ curationQueue { field value records method concept { iri } } }"""
SERIES = """{ search(query: {kind: SERIES}, first: 100) { edges { node { ... on Series {
  coded { field originalValue conceptIri method } } } } } }"""


def token(subject: str, *roles: str) -> str:
    now = int(time.time())
    claims = {"sub": subject, "roles": list(roles), "iat": now, "exp": now + 3600}
    return jwt.encode(claims, SECRET, "HS256")


CURATOR = token("cora", "curator:alpha")  # a site's curator: tokens name the site


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """Six subjects; two of them say SCHAEDEL for the body part, which nothing maps, and the
    rule mapping t2_tse_tra_p2 to T2-weighted (0.61) is below the review threshold."""
    root = tmp_path_factory.mktemp("curation-node")
    export, folder = root / "export", root / "brain-mr"
    write_sample_export(export)
    for subject_dir in sorted((export / "brain-mr").iterdir())[:6]:
        shutil.copytree(subject_dir, folder / subject_dir.name)
    for name in ("subject-00", "subject-01"):
        for path in (folder / name).rglob("*.dcm"):
            ds = pydicom.dcmread(path)
            ds.BodyPartExamined = "SCHAEDEL"
            ds.save_as(path)
    node = Node(
        root / "node",
        "alpha",
        CATALOGUE_AUTH_HS256_SECRET=SECRET,
        CATALOGUE_CURATION_REVIEW_BELOW="0.7",
    )
    source = {"name": "brain-mr", "kind": "dicom-folder", "path": str(folder), "collection": "MR"}
    node.write_sources([source])
    node.start()
    harvest(node, "brain-mr")
    try:
        yield node
    finally:
        node.stop()


def queue(node: Node) -> dict[tuple[str, str], dict[str, Any]]:
    found = node.query(QUEUE, key=CURATOR)["curationQueue"]
    return {(item["field"], item["value"]): item for item in found}


def coded(node: Node, field: str, value: str) -> set[tuple[str | None, str]]:
    """The (concept, method) pairs of the series whose `field` the site wrote as `value`."""
    return {
        (c["conceptIri"], c["method"])
        for edge in node.query(SERIES, key=CURATOR)["search"]["edges"]
        for c in edge["node"]["coded"]
        if (c["field"], c["originalValue"]) == (field, value)
    }


def head_curie(node: Node) -> str:
    query = "query($id: String!) { term(id: $id) { curie } }"
    curie: str = node.query(query, variables={"id": HEAD})["term"]["curie"]
    return curie


def sign_in(page: Page, key: str) -> None:
    page.locator("#token").fill(key)
    page.get_by_role("button", name="Sign in").click()


def settled(page: Page) -> None:
    """The queue shows the answer to the filter just chosen (an action started earlier would be
    undone when it arrives)."""
    expect(page.locator("#queue")).to_have_attribute("aria-busy", "false")


def test_a_curator_accepts_and_overrides_and_the_records_are_remapped(
    node: Node, page: Page
) -> None:
    waiting = queue(node)
    t2, skull = waiting[("sequence_type", T2)], waiting[("body_part", "SCHAEDEL")]
    assert t2["concept"] and skull["method"] == "unmapped"
    page.goto(f"{node.url}/curation.html")
    sign_in(page, CURATOR)
    expect(page.locator("article.queue-item")).to_have_count(len(waiting))
    screenshot(page, "curation")
    page.locator("#filter-field").select_option("sequence_type")
    settled(page)
    item = page.locator(f'article[data-field="sequence_type"][data-value="{T2}"]')
    expect(item.locator("[data-records]")).to_contain_text(f"{t2['records']} series")

    item.locator("[data-accept]").click()
    expect(item.locator("[data-effect]")).to_have_text(f"{t2['records']} series will be re-mapped.")
    expect(item.get_by_role("button", name="Confirm")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f'#result [data-done="{T2}"]')).to_contain_text(
        f"{t2['records']} series re-mapped"
    )
    expect(page.locator("#result")).to_be_focused()
    expect(item).to_have_count(0)

    page.locator("#filter-field").select_option("body_part")
    settled(page)
    item = page.locator('article[data-field="body_part"][data-value="SCHAEDEL"]')
    item.get_by_label("Another concept").fill("head")
    item.get_by_role("button", name="Body part: Head", exact=True).click()
    expect(item.locator("[data-effect]")).to_have_text(
        f"{skull['records']} series will be re-mapped."
    )
    found = violations(page)  # the queue, term offers and a confirmation open, under axe-core
    assert not found, described(found)
    item.get_by_role("button", name="Confirm").click()
    expect(page.locator('#result [data-done="SCHAEDEL"]')).to_contain_text(
        f"now maps to Head ({head_curie(node)}): {skull['records']} series re-mapped"
    )

    after = queue(node)  # the decisions are stored: the mapper answers them from now on
    assert ("sequence_type", T2) not in after and ("body_part", "SCHAEDEL") not in after
    assert coded(node, "body_part", "SCHAEDEL") == {(HEAD, "curator")}
    assert coded(node, "sequence_type", T2) == {(t2["concept"]["iri"], "curator")}
    assert ("contrast", T2) in after  # a value nobody decided on still waits


def test_without_the_curator_role_there_is_no_queue(node: Node, page: Page) -> None:
    page.goto(f"{node.url}/curation.html")
    expect(page.locator("#needs-curator")).to_contain_text("You need the curator role")
    sign_in(page, token("rita", "researcher"))
    expect(page.locator("#session-status")).to_contain_text("Signed in as rita")
    expect(page.locator("#needs-curator")).to_be_visible()
    expect(page.locator("article.queue-item")).to_have_count(0)
    expect(page.locator("#filters")).to_be_hidden()
