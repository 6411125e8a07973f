"""An OAI-PMH 2.0 client: Identify, ListMetadataFormats, ListSets and ListRecords with
resumption tokens, over `harvesters.fetch` (retries) and `harvesters.safexml` (no DTDs).

Every protocol error has a meaning here: `noRecordsMatch` is an empty list, not a failure;
`badResumptionToken` (an expired token) stops the run to be retried from its bookmark; the
argument and format errors are configuration problems, said plainly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from catalogue.errors import FatalHarvestError, HarvestError, RetriableHarvestError
from harvesters.fetch import Fetcher
from harvesters.safexml import Element, UnsafeXmlError, local_name, parse, text_of

OAI = "{http://www.openarchives.org/OAI/2.0/}"
MAX_PAGES = 1_000_000  # a repository whose tokens never end is not followed forever

# What each error code means for a harvest (OAI-PMH 2.0, section 3.6).
_FATAL_HINTS = {
    "badArgument": "the repository refused the request's arguments",
    "badVerb": "the URL does not answer OAI-PMH verbs (is it the repository's base URL?)",
    "cannotDisseminateFormat": "the repository does not offer the requested metadata format",
    "noSetHierarchy": "the repository has no sets (remove `set_spec`)",
    "noMetadataFormats": "the repository offers no metadata formats",
    "idDoesNotExist": "the repository does not know the identifier",
}


class BadPageError(RetriableHarvestError):
    """A response that is not a usable OAI-PMH document; the run stops, its bookmark stays."""


@dataclass(frozen=True)
class Identity:
    repository_name: str
    base_url: str
    protocol_version: str
    granularity: str  # "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ssZ"
    earliest_datestamp: str
    deleted_record: str  # no | transient | persistent


@dataclass(frozen=True)
class Header:
    identifier: str
    datestamp: str
    deleted: bool
    sets: tuple[str, ...] = ()


@dataclass(frozen=True)
class OaiRecord:
    """One `<record>`: its header (identifier "" when the repository left it out) and the
    metadata's root element (None for deleted records)."""

    header: Header
    metadata: Element | None


@dataclass
class Page:
    response_date: str
    records: list[OaiRecord] = field(default_factory=list)


class OaiClient:
    def __init__(self, base_url: str, fetcher: Fetcher) -> None:
        self.base_url, self.fetcher = base_url, fetcher

    def identify(self) -> Identity:
        _, body = self._request({"verb": "Identify"})
        found = body.find(f"{OAI}Identify")
        if found is None:
            raise BadPageError(f"{self._who()}: the Identify answer has no Identify element")

        def text(name: str) -> str:
            return text_of(found.find(f"{OAI}{name}"))

        return Identity(
            repository_name=text("repositoryName"),
            base_url=text("baseURL"),
            protocol_version=text("protocolVersion"),
            granularity=text("granularity") or "YYYY-MM-DD",
            earliest_datestamp=text("earliestDatestamp"),
            deleted_record=text("deletedRecord") or "no",
        )

    def metadata_formats(self) -> list[str]:
        _, body = self._request({"verb": "ListMetadataFormats"})
        return [
            text_of(fmt.find(f"{OAI}metadataPrefix")) for fmt in body.iter(f"{OAI}metadataFormat")
        ]

    def sets(self) -> list[tuple[str, str]]:
        """(setSpec, setName) of every set, across resumption tokens."""
        found: list[tuple[str, str]] = []
        for _, body in self._listing("ListSets", {}):
            for item in body.iter(f"{OAI}set"):
                found.append(
                    (text_of(item.find(f"{OAI}setSpec")), text_of(item.find(f"{OAI}setName")))
                )
        return found

    def list_records(
        self, prefix: str, since: str | None = None, set_spec: str | None = None
    ) -> Iterator[Page]:
        """The pages of a listing, in order; an empty listing is one empty page."""
        arguments = {"metadataPrefix": prefix}
        if since:
            arguments["from"] = since
        if set_spec:
            arguments["set"] = set_spec
        for response_date, body in self._listing("ListRecords", arguments):
            page = Page(response_date)
            for record in body.iter(f"{OAI}record"):
                page.records.append(_record(record))
            yield page

    # -- requests ----------------------------------------------------------------------------
    def _listing(self, verb: str, arguments: dict[str, str]) -> Iterator[tuple[str, Element]]:
        params = {"verb": verb, **arguments}
        for number in range(1, MAX_PAGES + 1):
            try:
                response_date, body = self._request(params)
            except _NoRecords as empty:
                yield empty.response_date, empty.body
                return
            except BadPageError as exc:
                raise BadPageError(f"{exc.message} (page {number} of {verb})") from None
            yield response_date, body
            token = body.find(f"{OAI}{verb}/{OAI}resumptionToken")
            value = text_of(token)
            if not value:  # absent, or empty: the list is complete
                return
            params = {"verb": verb, "resumptionToken": value}
        raise BadPageError(f"{self._who()}: {verb} did not end after {MAX_PAGES} pages")

    def _request(self, params: dict[str, str]) -> tuple[str, Element]:
        """(responseDate, the verb's element's parent) of a successful request."""
        fetched = self.fetcher.get(self.base_url, params)
        try:
            root = parse(fetched.body)
        except UnsafeXmlError as exc:
            raise BadPageError(f"{self._who()}: the {params['verb']} answer: {exc}") from None
        if root.tag != f"{OAI}OAI-PMH":
            raise BadPageError(
                f"{self._who()}: the {params['verb']} answer is not an OAI-PMH document"
            )
        response_date = _utc(text_of(root.find(f"{OAI}responseDate")))
        errors = root.findall(f"{OAI}error")
        if errors:
            codes = {e.get("code", "") for e in errors}
            if codes == {"noRecordsMatch"}:
                raise _NoRecords(response_date, root)
            raise _protocol_error(self._who(), params, errors[0])
        return response_date, root

    def _who(self) -> str:
        return f"OAI-PMH repository {self.base_url}"


class _NoRecords(Exception):
    def __init__(self, response_date: str, body: Element) -> None:
        super().__init__("noRecordsMatch")
        self.response_date, self.body = response_date, body


def _protocol_error(who: str, params: dict[str, str], error: Element) -> HarvestError:
    code = error.get("code", "") or "(no code)"
    said = text_of(error)[:200]
    detail = f" ({said})" if said else ""
    if code == "badResumptionToken":
        return RetriableHarvestError(
            f"{who}: it refused its own resumption token (expired?){detail}; "
            "the next run starts the listing again from the bookmark"
        )
    hint = _FATAL_HINTS.get(code, "the repository answered an error")
    verb = params.get("verb", "")
    return FatalHarvestError(f"{who}: {verb}: {code}: {hint}{detail}")


def _record(element: Element) -> OaiRecord:
    header = element.find(f"{OAI}header")
    metadata = element.find(f"{OAI}metadata")
    payload = None
    if metadata is not None:
        payload = next((child for child in metadata if local_name(child)), None)
    if header is None:
        return OaiRecord(Header("", "", False), payload)
    return OaiRecord(
        Header(
            identifier=text_of(header.find(f"{OAI}identifier")),
            datestamp=text_of(header.find(f"{OAI}datestamp")),
            deleted=header.get("status") == "deleted",
            sets=tuple(text_of(s) for s in header.findall(f"{OAI}setSpec")),
        ),
        payload,
    )


def _utc(value: str) -> str:
    """A responseDate as `YYYY-MM-DDThh:mm:ssZ` ("" when missing or not a UTC datetime)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
