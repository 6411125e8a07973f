"""Web UI benchmark: the cohort builder in Debian's Chromium (Playwright) against a real
`catalogue serve` node holding a generated multi-site catalogue (embedded backend, SQLite).

    .venv/bin/python bench/web_ui.py                        # 5,000 subjects, 15 runs each
    .venv/bin/python bench/web_ui.py --subjects 20000 --runs 25

1. First contentful paint of `/` in a fresh browser context (nothing cached) vs the FCP of a
   static HTML page of the same weight as the builder's HTML, CSS and JavaScript, served from the
   same machine by a bare `http.server`.
2. A facet click to the updated counts on the page (the new totals painted) vs the page's own
   cohort request sent with `fetch` from the same page and its JSON read.

Prints medians and the ratios against each baseline, and the builder's page weight.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Request, Response, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from bench.graphql_search import _free_port, prepare, serve  # noqa: E402

CHROMIUM = os.environ.get("CATALOGUE_TEST_CHROMIUM", "/usr/bin/chromium")
FCP = """() => new Promise((resolve) => {
  const seen = performance.getEntriesByName("first-contentful-paint");
  if (seen.length) return resolve(seen[0].startTime);
  new PerformanceObserver((list) => resolve(list.getEntries()[0].startTime))
    .observe({type: "paint", buffered: true});
})"""
# Click a facet value; resolve at the first frame after the summary shows new totals.
CLICK = """(selector) => new Promise((resolve) => {
  const summary = document.getElementById("summary");
  const before = document.getElementById("totals");
  const start = performance.now();
  const watch = new MutationObserver(() => {
    const now = document.getElementById("totals");
    if (!now || now === before) return;
    watch.disconnect();
    requestAnimationFrame(() => resolve(performance.now() - start));
  });
  watch.observe(summary, {childList: true, subtree: true});
  document.querySelector(selector).click();
})"""
FETCH = """async (body) => {
  const start = performance.now();
  const reply = await fetch("/graphql", {method: "POST", body,
    headers: {"Content-Type": "application/json", Accept: "application/json"}});
  await reply.json();
  return performance.now() - start;
}"""
FACET = "fieldset[data-field=sex] input[type=checkbox]"


def is_cohort(request: Request) -> bool:
    return request.url.endswith("/graphql") and "cohort(" in (request.post_data or "")


def settled(page: Page) -> None:
    page.wait_for_selector("#totals")
    page.wait_for_function("!document.querySelector('#summary[aria-busy]')")


def first_paint(browser: Browser, url: str, ready: Callable[[Page], None]) -> float:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        page.goto(url)
        ready(page)
        paint: float = page.evaluate(FCP)
        return paint
    finally:
        context.close()


def weigh(browser: Browser, url: str) -> int:
    """Bytes of HTML, CSS and JavaScript the builder loads, uncompressed."""
    context = browser.new_context()
    responses: list[Response] = []
    try:
        page = context.new_page()
        page.on("response", lambda response: responses.append(response))
        page.goto(url)
        settled(page)
        return sum(len(r.body()) for r in responses if not r.url.endswith("/graphql"))
    finally:
        context.close()


@contextmanager
def static_page(size: int) -> Iterator[str]:
    """A bare HTTP server holding one static page of `size` bytes: headings and paragraphs."""
    with tempfile.TemporaryDirectory(prefix="web-bench-static-") as tmp:
        head = "<!doctype html><html lang=en><head><meta charset=utf-8><title>Static</title>"
        head += "</head><body>"
        body = (
            "<h1>Find a cohort</h1>"
            + "<p>Counts are subjects in the cohort as it stands.</p>" * (size // 52)
        )
        Path(tmp, "index.html").write_text((head + body)[: size - 14] + "</body></html>")
        handler = functools.partial(QuietHandler, directory=tmp)
        server = ThreadingHTTPServer(("127.0.0.1", _free_port()), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
        finally:
            server.shutdown()
            server.server_close()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def facet_clicks(browser: Browser, url: str, runs: int) -> tuple[list[float], list[float]]:
    """Click to painted counts, alternately choosing and dropping a value; and the bare fetch of
    the same cohort requests."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        page.goto(url)
        settled(page)
        bodies: list[str] = []
        page.on("request", lambda r: bodies.append(r.post_data or "") if is_cohort(r) else None)
        page.evaluate(CLICK, FACET)  # warm-up: the first filtered answer, term labels
        settled(page)
        page.evaluate(CLICK, FACET)
        settled(page)
        clicks, fetches = [], []
        for _ in range(runs):  # interleaved: each click's request, then the same one bare
            clicks.append(page.evaluate(CLICK, FACET))
            settled(page)
            fetches.append(page.evaluate(FETCH, bodies[-1]))
        return clicks, fetches
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        settings = prepare(Path(tmp) / "var", args.subjects)
        server = serve(settings, port := _free_port())
        url = f"http://127.0.0.1:{port}/"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox"]
                )
                weight = weigh(browser, url)
                with static_page(weight) as static:
                    for _ in range(2):  # warm-up: the browser's and the servers' first requests
                        first_paint(browser, url, settled)
                        first_paint(browser, static, lambda page: None)
                    builder, bare = [], []
                    for _ in range(args.runs):  # interleaved: both see the same machine
                        builder.append(first_paint(browser, url, settled))
                        bare.append(first_paint(browser, static, lambda page: None))
                clicks, fetches = facet_clicks(browser, url, args.runs)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(args, weight, builder, bare, clicks, fetches)


def report(
    args: argparse.Namespace,
    weight: int,
    builder: list[float],
    bare: list[float],
    clicks: list[float],
    fetches: list[float],
) -> None:
    print(f"catalogue: {args.subjects} subjects, 10 sites (embedded backend); {args.runs} runs")
    print(f"machine: {os.cpu_count()} cores; Chromium at {CHROMIUM}")
    print(f"cohort builder page weight: {weight / 1000:.1f} KB (HTML, CSS, JS, uncompressed)")
    print(f"{'measure':<58}{'median ms':>10}")
    fcp, fcp0 = statistics.median(builder), statistics.median(bare)
    click, fetch = statistics.median(clicks), statistics.median(fetches)
    print(f"{'first contentful paint of / (cohort builder)':<58}{fcp:>10.1f}")
    print(f"{'first contentful paint of a static page of that weight':<58}{fcp0:>10.1f}")
    print(f"{'facet click to updated counts painted':<58}{click:>10.1f}")
    print(f"{'the same cohort request, fetch + JSON from the page':<58}{fetch:>10.1f}")
    print(f"ratio FCP builder/static: {fcp / fcp0:.2f}x")
    print(f"ratio facet click/bare fetch: {click / fetch:.2f}x")


if __name__ == "__main__":
    main()
