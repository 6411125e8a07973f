"""`peer`: another node of this catalogue, read through its change feed (GraphQL `changes`).

A hub runs one `peer` source per site node. Each change becomes a record keyed by the site's IRI
for it, so the site stays the record's origin and its access addresses keep pointing at the site;
deletions at the site arrive as deletions. The cursor is the feed's own, so a site that was down
is caught up from where the hub stopped, never re-read from the start. The site node has already
de-identified everything it exports; a hub never receives more than its API key is granted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
from pydantic import AnyHttpUrl, Field, SecretStr
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import FatalHarvestError, RetriableHarvestError, SkippableHarvestError
from catalogue.records import (
    CollectionRecord,
    Cursor,
    Deleted,
    Item,
    Record,
    RecordKind,
    SeriesRecord,
    StudyRecord,
    SubjectRecord,
)
from harvesters.base import Harvester, HarvesterConfig

CHANGES = """
query Changes($after: String, $first: Int!) {
  changes(after: $after, first: $first) {
    endCursor
    hasNextPage
    changes { cursor op kind iri parents record coded provenance }
  }
}
"""
_KINDS: dict[str, RecordKind] = {
    "collection": "collection",
    "subject": "subject",
    "study": "study",
    "series": "series",
}
_SERIES_FIELDS = frozenset(SeriesRecord.model_fields) - {
    "kind", "cursor", "attributes", "native_id", "collection", "subject", "study",
}  # fmt: skip


class PeerConfig(HarvesterConfig):
    url: AnyHttpUrl = Field(
        description="GraphQL endpoint of the site node, e.g. `https://site-a.example.org/graphql`."
    )
    api_key: SecretStr | None = Field(
        None, description="API key the site issued to this hub (sent as a bearer token)."
    )
    page_size: int = Field(500, ge=1, le=1000, description="Changes asked for per request.")
    timeout_s: float = Field(30.0, gt=0, description="Seconds to wait for each page.")
    live_counts: bool = Field(
        False,
        description="Answer cohort counts live from this site (for sites that share counts "
        "only); its records in this node's index are then left out of cohort answers.",
    )
    live_timeout_s: float = Field(
        5.0,
        gt=0,
        description="Seconds a live cohort count may take before the site is marked "
        "unavailable in the answer.",
    )


class PeerHarvester(Harvester[PeerConfig]):
    name = "peer"
    Config = PeerConfig
    complete_walks: ClassVar[bool] = False  # a walk from no cursor is complete; later ones not

    def check_connection(self) -> None:
        with self._client() as client:
            self._page(client, None, 1)

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        after: str | None = since
        with self._client() as client:
            while True:
                page = self._page(client, after, self.config.page_size)
                for change in page.get("changes") or []:
                    item = self._item(change)
                    if item is not None:
                        yield item
                after = page.get("endCursor") or after
                if not page.get("hasNextPage"):
                    return

    def _client(self) -> httpx.Client:
        headers = {"Accept": "application/json"}
        if self.config.api_key is not None:
            headers["Authorization"] = f"Bearer {self.config.api_key.get_secret_value()}"
        return httpx.Client(headers=headers, timeout=self.config.timeout_s)

    def _page(self, client: httpx.Client, after: str | None, first: int) -> dict[str, Any]:
        body = {"query": CHANGES, "variables": {"after": after, "first": first}}
        try:
            reply = client.post(str(self.config.url), json=body)
        except httpx.HTTPError as exc:
            raise RetriableHarvestError(f"the peer did not answer ({type(exc).__name__})") from None
        if reply.status_code in (401, 403):
            raise FatalHarvestError(f"the peer refused this hub's key (HTTP {reply.status_code})")
        if reply.status_code >= 500 or reply.status_code == 429:
            raise RetriableHarvestError(f"the peer answered HTTP {reply.status_code}")
        try:
            answer = reply.json()
        except ValueError:
            raise FatalHarvestError(
                f"the peer's answer is not JSON (HTTP {reply.status_code}): "
                "is the URL its /graphql endpoint?"
            ) from None
        if not isinstance(answer, dict):
            raise FatalHarvestError("the peer's answer is not a GraphQL response")
        if answer.get("errors"):
            raise _graphql_error(answer["errors"])
        page = (answer.get("data") or {}).get("changes")
        if not isinstance(page, dict):
            raise FatalHarvestError(
                "the peer's answer has no change feed (is it a catalogue node?)"
            )
        return page

    def _item(self, change: dict[str, Any]) -> Item | None:
        iri, cursor = change.get("iri"), change.get("cursor")
        kind = _KINDS.get(str(change.get("kind")))
        if not iri or kind is None:
            self.report.failure(str(iri or "?"), "change without an IRI or a known kind")
            return None
        if change.get("op") == "delete":
            return Deleted(kind=kind, native_id=iri, cursor=cursor)
        try:
            return _record(kind, change, cursor)
        except (PydanticValidationError, KeyError, TypeError) as exc:
            reason = (
                f"{exc.error_count()} invalid field(s)"
                if isinstance(exc, PydanticValidationError)
                else "a field is missing or malformed"
            )
            self.report.failure(iri, f"the peer's record does not fit: {reason}")
            return None


def _graphql_error(errors: list[Any]) -> Exception:
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = (first.get("extensions") or {}).get("code", "")
    message = str(first.get("message", "unknown error"))[:200]
    if code in ("FORBIDDEN", "UNAUTHENTICATED"):
        return FatalHarvestError(f"the peer refused this hub's key: {message}")
    if code in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"):
        return FatalHarvestError(f"the peer does not understand the change feed query: {message}")
    if code == "SEARCH_UNAVAILABLE":
        return RetriableHarvestError(f"the peer is unavailable: {message}")
    return SkippableHarvestError(f"the peer answered an error: {message}")


def _record(kind: RecordKind, change: dict[str, Any], cursor: Cursor) -> Record:
    record: dict[str, Any] = change["record"] or {}
    parents: dict[str, str] = change.get("parents") or {}
    origin = {"iri": change["iri"], **(change.get("provenance") or {})}
    # the site's IRI is the native id; series also keep the rest of the origin
    common = {"native_id": change["iri"], "cursor": cursor}
    if kind == "collection":
        return CollectionRecord(
            **common,
            title=record["title"],
            description=record.get("description") or "",
            visibility=record.get("visibility", "public"),
            access_url=record.get("access_url"),
        )
    if kind == "subject":
        coded: list[dict[str, str]] = change.get("coded") or []
        species = [c["original"] for c in coded if c.get("field") == "species"]
        return SubjectRecord(
            **common,
            collection=parents["collection"],
            sex=record.get("sex", "unknown"),
            birth_year=record.get("birth_year"),
            group=record.get("group"),
            strain=record.get("strain"),
            species=species[0] if species else None,
            diagnoses=tuple(c["original"] for c in coded if c.get("field") == "diagnosis"),
        )
    if kind == "study":
        return StudyRecord(
            **common,
            collection=parents["collection"],
            subject=parents["subject"],
            description=record.get("description"),
            year=record.get("year"),
            age_years=record.get("age_years"),
            access_url=record.get("access_url"),
        )
    fields = {k: v for k, v in record.items() if k in _SERIES_FIELDS}
    attributes = {**(record.get("attributes") or {}), "origin": origin}
    return SeriesRecord(
        **common,
        attributes=attributes,
        **fields,
        collection=parents["collection"],
        subject=parents["subject"],
        study=parents["study"],
    )
