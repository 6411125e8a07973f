"""A real node for the browser tests: `catalogue serve` in a subprocess with its own data
directory, holding an open collection and an aggregate-only one harvested from the bundled sample
export; and Debian's Chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from harvesters.dicom.sample import write_sample_export
from tests.conftest import IN_CI
from tests.federation.nodes import Node

# The machine running the suite may be busy: waits are generous, they only bound a failure.
expect.set_options(timeout=20_000)
# Screenshots of the main pages, for a reviewer to look at (var/ is not versioned).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM = Path(os.environ.get("CATALOGUE_TEST_CHROMIUM", "/usr/bin/chromium"))
SECRET = "browser-tests-shared-secret-of-32-bytes-at-least"


def admin_token() -> str:
    now = int(time.time())
    claims = {"sub": "ada", "roles": ["admin"], "iat": now, "exp": now + 3600}
    return jwt.encode(claims, SECRET, "HS256")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    node = web_node(tmp_path_factory.mktemp("web-node"))
    try:
        yield node
    finally:
        node.stop()


def web_node(root: Path, **settings: str) -> Node:
    """A started node with both collections harvested; `settings` add to its environment."""
    export, open_dir, registry_dir = root / "export", root / "brain-mr", root / "registry"
    write_sample_export(export)
    for subject in sorted((export / "brain-mr").iterdir())[:6]:  # few records: a fast harvest
        shutil.copytree(subject, open_dir / subject.name)
    registry_dir.mkdir()
    for path in sorted((export / "pydicom" / "00").iterdir())[:5]:  # a few subjects: below k
        shutil.copyfile(path, registry_dir / path.name)
    node = Node(root / "node", "alpha", CATALOGUE_AUTH_HS256_SECRET=SECRET, **settings)
    node.write_sources(
        [
            {
                "name": "brain-mr",
                "kind": "dicom-folder",
                "path": str(open_dir),
                "collection": "Brain MR",
                "access_url_template": "https://pacs.alpha.example/series/{series}",
            },
            {
                "name": "registry",
                "kind": "dicom-folder",
                "path": str(registry_dir),
                "collection": "Registry",
                "visibility": "aggregate",
            },
        ]
    )
    node.start()
    try:
        harvest(node, "brain-mr", "registry")  # through the API: no second process to start
    except BaseException:
        node.stop()
        raise
    return node


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def harvest(node: Node, *sources: str) -> None:
    for source in sources:
        node.query(START, key=admin_token(), variables={"source": source})
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        edges = node.query(SOURCES)["sources"]["edges"]
        runs = [e["node"]["lastRun"] for e in edges if not e["node"]["harvesting"]]
        if len(runs) == len(sources) and all(run and run["finishedAt"] for run in runs):
            assert all(run["status"] == "SUCCEEDED" for run in runs), runs
            return
        time.sleep(0.2)
    raise AssertionError("the harvests did not finish")


START = "mutation($source: String!) { startHarvest(source: $source) { source } }"
SOURCES = "{ sources { edges { node { harvesting lastRun { status finishedAt } } } } }"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (run `deploy/local/services start chromium`)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
