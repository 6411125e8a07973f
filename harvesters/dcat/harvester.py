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
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from rdflib import Graph

from catalogue.errors import FatalHarvestError, HarvestError
from catalogue.records import Cursor, Item
from harvesters.base import Harvester, HarvesterConfig
from harvesters.dcat import mapping
from harvesters.dcat.jsonld import LocalContexts
from harvesters.dcat.pages import ACCEPT, BadPageError, next_page, parse_page, serialisation
from harvesters.fetch import Fetcher, FetchPolicy

Format = Literal["auto", "turtle", "xml", "json-ld", "nt"]


class DcatConfig(HarvesterConfig):
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
    timeout_s: float = Field(60.0, gt=0, description="per-request timeout in seconds")
    retries: int = Field(3, ge=0, le=10, description="retries of a request that failed")
    retry_wait_s: float = Field(2.0, ge=0, description="first wait before a retry (doubles)")
    max_retry_wait_s: float = Field(
        300.0, ge=0, description="longest wait a `Retry-After` header may ask for"
    )
    verify_tls: bool = Field(True, description="check the server's TLS certificate")

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http(s) address of the catalogue")
        return url

    def fetcher(self) -> Fetcher:
        return Fetcher(
            f"DCAT catalogue {self.url}",
            FetchPolicy(
                timeout_s=self.timeout_s,
                retries=self.retries,
                retry_wait_s=self.retry_wait_s,
                max_wait_s=self.max_retry_wait_s,
                verify_tls=self.verify_tls,
                headers={"Accept": ACCEPT},
            ),
        )


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
