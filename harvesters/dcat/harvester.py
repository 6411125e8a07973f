"""DCAT / DCAT-AP catalogue harvester: a partner's `dcat:Dataset`s become dataset records.

A catalogue is one document or pages linked by Hydra (`hydra:next`); every run walks it all
(DCAT has no change feed), so every complete run may drive deletions, and the ingest service
rewrites only datasets whose content changed. A page that cannot be read (malformed Turtle, a
DTD in RDF/XML, a remote JSON-LD context) is reported and ends the walk: the run is then partial,
keeps what it stored and deletes nothing. Transport failures (5xx after retries, timeouts, an
HTML page with 200) stop the run to be retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field
from rdflib import Graph

from catalogue.errors import FatalHarvestError, HarvestError
from catalogue.records import Cursor, Item
from harvesters.base import Harvester
from harvesters.dcat import mapping
from harvesters.dcat.jsonld import LocalContexts
from harvesters.dcat.pages import ACCEPT, BadPageError, next_page, parse_page, serialisation
from harvesters.fetch import FetchConfig, Fetcher

Format = Literal["auto", "turtle", "xml", "json-ld", "nt"]


class DcatConfig(FetchConfig):
    source_kind: ClassVar[str] = "DCAT catalogue"
    url_means: ClassVar[str] = "an http(s) address of the catalogue"
    accept: ClassVar[str] = ACCEPT

    url: str = Field(description="address of the catalogue (its first page)")
    format: Format = Field(
        "auto",
        description="serialisation when the server's Content-Type does not say: turtle, xml "
        "(RDF/XML), json-ld or nt; `auto` guesses from the address",
    )
    language: str = Field("en", description="language preferred for titles and descriptions")
    contexts: dict[str, Path] = Field(
        default_factory=dict,
        description="JSON-LD context URL → local file, besides the DCAT-AP contexts shipped "
        "(contexts are never fetched)",
    )
    max_pages: int = Field(10_000, ge=1, description="stop following `hydra:next` after this")


class DcatHarvester(Harvester[DcatConfig]):
    name = "dcat"
    Config = DcatConfig
    complete_walks: ClassVar[bool] = True

    def check_connection(self) -> None:
        fetcher = self.config.fetcher()
        try:
            graph = self._page(fetcher, self.config.url, LocalContexts(self.config.contexts))
        except HarvestError as exc:
            raise FatalHarvestError(exc.message) from None
        except BadPageError as exc:
            raise FatalHarvestError(f"DCAT catalogue {self.config.url}: {exc}") from None
        finally:
            fetcher.close()
        if not any(True for _ in mapping.dataset_nodes(graph)) and next_page(graph, "") is None:
            raise FatalHarvestError(f"DCAT catalogue {self.config.url} lists no dcat:Dataset")

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        fetcher = self.config.fetcher()
        contexts = LocalContexts(self.config.contexts)
        url: str | None = self.config.url
        visited: set[str] = set()
        seen: set[str] = set()
        try:
            while url is not None and len(visited) < self.config.max_pages:
                visited.add(url)
                try:
                    graph = self._page(fetcher, url, contexts)
                except BadPageError as exc:
                    self.report.failure(url, f"page {len(visited)}: {exc}")
                    return
                yield from self._datasets(graph, seen)
                url = next_page(graph, url)
                if url in visited:
                    self.report.failure(url, "the catalogue's pages link back in a loop")
                    return
            if url is not None:
                self.report.failure(url, f"more than max_pages ({self.config.max_pages}) pages")
        finally:
            fetcher.close()

    def _page(self, fetcher: Fetcher, url: str, contexts: LocalContexts) -> Graph:
        fetched = fetcher.get(url)
        kind = serialisation(fetched.content_type, self.config.format, url)
        return parse_page(fetched.body, kind, fetched.url, contexts)

    def _datasets(self, graph: Graph, seen: set[str]) -> Iterator[Item]:
        for node in mapping.dataset_nodes(graph):
            try:
                record = mapping.dataset_record(graph, node, self.config.language)
            except mapping.MappingError as exc:
                self.report.failure(str(node)[:512], str(exc))
                continue
            if record.native_id not in seen:  # a dataset repeated on two pages: once
                seen.add(record.native_id)
                yield record
