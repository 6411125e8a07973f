"""The OAI-PMH 2.0 provider: six verbs over our published datasets, streamed page by page.

`respond(query)` returns the response as an iterator of byte chunks (a record at a time), so
neither a page nor a harvest is ever held in memory whole. Protocol errors are answered in the
body, as the protocol requires; a deleted or hidden dataset stays as a deleted record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree  # type: ignore[import-untyped]

from catalogue.exports.oaipmh import repository
from catalogue.exports.oaipmh.protocol import (
    GRANULARITY,
    METADATA_PREFIXES,
    ListRequest,
    OaiError,
    check_prefix,
    datestamp,
    encode_token,
    list_request,
    parse_arguments,
)
from catalogue.exports.oaipmh.writer import (
    FORMATS,
    OAI,
    Envelope,
    error_element,
    header_element,
    record_element,
)
from catalogue.exports.view import Node
from catalogue.store import Store


@dataclass(frozen=True)
class OaiConfig:
    base_url: str  # the provider's own URL, e.g. https://node.example/oai
    repository_name: str
    admin_email: str
    page_size: int = 100


class OaiProvider:
    def __init__(self, store: Store, node: Node, config: OaiConfig) -> None:
        self.store = store
        self.node = node
        self.config = config
        self.namespace = urlsplit(node.base_url).hostname or "localhost"

    # -- identifiers ----------------------------------------------------------------------
    def identifier(self, dataset_id: uuid.UUID) -> str:
        return f"oai:{self.namespace}:{dataset_id}"

    def _dataset_id(self, identifier: str) -> uuid.UUID:
        prefix = f"oai:{self.namespace}:"
        try:
            if not identifier.startswith(prefix):
                raise ValueError(identifier)
            return uuid.UUID(identifier[len(prefix) :])
        except ValueError:
            raise OaiError("idDoesNotExist", f"unknown identifier {identifier!r}") from None

    # -- dispatch -------------------------------------------------------------------------
    def respond(self, query: Sequence[tuple[str, str]]) -> Iterator[bytes]:
        """The response to one request, as chunks of UTF-8 XML."""
        try:
            verb, args = parse_arguments(query)
        except OaiError as error:
            return self._error(Envelope(self.config.base_url, {}), error)
        envelope = Envelope(self.config.base_url, {"verb": verb, **args})
        try:
            body = self._body(verb, args)
            first = next(body)  # runs the checks that may raise before any output
        except OaiError as error:
            if error.code == "badArgument":  # the protocol echoes no illegal argument
                envelope = Envelope(self.config.base_url, {})
            return self._error(envelope, error)
        return self._write(envelope, verb, first, body)

    def _body(self, verb: str, args: dict[str, str]) -> Iterator[Any]:
        if verb == "Identify":
            return self._identify()
        if verb == "ListMetadataFormats":
            return self._formats(args.get("identifier"))
        if verb == "ListSets":
            return self._sets(args)
        if verb == "GetRecord":
            return self._get(args["identifier"], args["metadataPrefix"])
        return self._list(list_request(args), headers_only=verb == "ListIdentifiers")

    def _write(
        self, envelope: Envelope, verb: str, first: Any, rest: Iterator[Any]
    ) -> Iterator[bytes]:
        with envelope.open(verb) as xf:
            xf.write(first)
            for element in rest:
                xf.write(element)
                yield envelope.drain()
        yield envelope.drain()

    def _error(self, envelope: Envelope, error: OaiError) -> Iterator[bytes]:
        with envelope.open(None) as xf:
            xf.write(error_element(error.code, error.message))
        yield envelope.drain()

    # -- verbs (each yields elements; the first one is computed eagerly) ------------------
    def _identify(self) -> Iterator[Any]:
        with self.store.session() as session:
            earliest = repository.earliest(session) or datetime(2000, 1, 1, tzinfo=UTC)
        for name, text in (
            ("repositoryName", self.config.repository_name),
            ("baseURL", self.config.base_url),
            ("protocolVersion", "2.0"),
            ("adminEmail", self.config.admin_email),
            ("earliestDatestamp", datestamp(earliest)),
            ("deletedRecord", "persistent"),
            ("granularity", GRANULARITY),
        ):
            yield _text(name, text)

    def _formats(self, identifier: str | None) -> Iterator[Any]:
        if identifier is not None:
            self._record(identifier)
        for prefix in METADATA_PREFIXES:
            schema, namespace = FORMATS[prefix]
            element = etree.Element(f"{{{OAI}}}metadataFormat", nsmap={None: OAI})
            for name, text in (
                ("metadataPrefix", prefix),
                ("schema", schema),
                ("metadataNamespace", namespace),
            ):
                element.append(_text(name, text))
            yield element

    def _sets(self, args: dict[str, str]) -> Iterator[Any]:
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "ListSets is never split into pages")
        with self.store.session() as session:
            sets = repository.list_sets(session)
        if not sets:
            raise OaiError("noSetHierarchy", "no dataset belongs to a set yet")
        for item in sets:
            element = etree.Element(f"{{{OAI}}}set", nsmap={None: OAI})
            element.append(_text("setSpec", item.spec))
            element.append(_text("setName", item.name))
            yield element

    def _record(self, identifier: str) -> repository.OaiRecord:
        with self.store.session() as session:
            record = repository.get(session, self.node, self._dataset_id(identifier))
        if record is None:
            raise OaiError("idDoesNotExist", f"unknown identifier {identifier!r}")
        return record

    def _get(self, identifier: str, prefix: str) -> Iterator[Any]:
        check_prefix(prefix)
        record = self._record(identifier)
        yield record_element(record, identifier, prefix)

    def _list(self, request: ListRequest, *, headers_only: bool) -> Iterator[Any]:
        """One page; a token for the next carries the last key (no state on the server)."""
        with self.store.session() as session:
            total = (
                request.total if request.total is not None else repository.count(session, request)
            )
            records, more = repository.page(session, self.node, request, self.config.page_size)
        if not records:
            raise OaiError("noRecordsMatch", "no record matches the request")
        for record in records:
            identifier = self.identifier(record.view.dataset_id)
            if headers_only:
                yield header_element(record, identifier)
            else:
                yield record_element(record, identifier, request.prefix)
        if more or request.after is not None:
            yield _token(request, records, more, total)


def _text(name: str, text: str) -> Any:
    element = etree.Element(f"{{{OAI}}}{name}", nsmap={None: OAI})
    element.text = text
    return element


def _token(
    request: ListRequest, records: list[repository.OaiRecord], more: bool, total: int
) -> Any:
    """The resumption token; empty on the last page of a resumed list (the protocol's end)."""
    attrs = {"completeListSize": str(total), "cursor": str(request.cursor)}
    following = request.next_page(records[-1].view.dataset_id, len(records), total)
    token = _text("resumptionToken", encode_token(following) if more else "")
    for key, value in attrs.items():
        token.set(key, value)
    return token
