"""OAI-PMH harvester: a partner repository's records become dataset records.

Incremental by `from`: the bookmark is the repository's own `responseDate` of the first page of
the last complete listing (its clock, not ours), written at the repository's granularity. Records
of a listing are not ordered by datestamp, so no record moves the bookmark: only the end of a
complete listing does (a `Checkpoint`). A listing that fails part-way (a 5xx that retries do not
cure, an expired resumption token, a broken page) stops the run; what it stored stays stored and
the next run lists again from the same bookmark.

A header with `status="deleted"` deletes the dataset. A record that cannot be used (no
identifier, no title, unparsable metadata) is reported and the listing goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from catalogue.errors import FatalHarvestError, HarvestError
from catalogue.records import Checkpoint, Cursor, DatasetRecord, Deleted, Item
from harvesters.base import Harvester
from harvesters.fetch import FetchConfig
from harvesters.oaipmh import mapping
from harvesters.oaipmh.protocol import Identity, OaiClient, OaiRecord

PREFERRED = ("oai_datacite", "datacite", "oai_dc")  # richest first
Prefix = Literal["auto", "oai_datacite", "datacite", "oai_dc"]


class OaiPmhConfig(FetchConfig):
    source_kind: ClassVar[str] = "OAI-PMH repository"
    url_means: ClassVar[str] = "the http(s) base URL of the repository"
    accept: ClassVar[str] = "text/xml, application/xml"

    url: str = Field(description="the repository's base URL, e.g. https://oai.example.org/oai")
    metadata_prefix: Prefix = Field(
        "auto",
        description="metadata format to harvest; `auto` takes the richest the repository offers "
        "(oai_datacite, datacite, then oai_dc)",
    )
    set_spec: str | None = Field(None, description="harvest only this set (its setSpec)")

    @field_validator("url")
    @classmethod
    def _check_no_query(cls, url: str) -> str:
        if urlsplit(url).query:
            raise ValueError("url must not hold a query: the harvester adds the verbs")
        return url


class OaiPmhHarvester(Harvester[OaiPmhConfig]):
    name = "oai-pmh"
    Config = OaiPmhConfig

    def check_connection(self) -> None:
        fetcher = self.config.fetcher()
        try:
            client = OaiClient(self.config.url, fetcher)
            self._prefix(client, client.identify())
            if self.config.set_spec is not None:
                offered = {spec for spec, _ in client.sets()}
                if self.config.set_spec not in offered:
                    raise FatalHarvestError(
                        f"OAI-PMH repository {self.config.url} has no set "
                        f"{self.config.set_spec!r} ({len(offered)} sets offered)"
                    )
        except FatalHarvestError:
            raise
        except HarvestError as exc:
            raise FatalHarvestError(exc.message) from None
        finally:
            fetcher.close()

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        fetcher = self.config.fetcher()
        try:
            client = OaiClient(self.config.url, fetcher)
            identity = client.identify()
            prefix = self._prefix(client, identity)
            started: str | None = None
            listing = client.list_records(prefix, _from(since, identity), self.config.set_spec)
            for page in listing:
                started = started or page.response_date
                for record in page.records:
                    yield from self._item(record, prefix)
            if started and (not isinstance(since, str) or started > since):
                yield Checkpoint(cursor=started)
        finally:
            fetcher.close()

    def _prefix(self, client: OaiClient, identity: Identity) -> str:
        if identity.protocol_version and identity.protocol_version != "2.0":
            raise FatalHarvestError(
                f"OAI-PMH repository {self.config.url} speaks protocol version "
                f"{identity.protocol_version[:20]!r}, not 2.0"
            )
        offered = client.metadata_formats()
        wanted = self.config.metadata_prefix
        if wanted != "auto":
            if wanted not in offered:
                raise FatalHarvestError(
                    f"OAI-PMH repository {self.config.url} does not offer {wanted!r} "
                    f"(it offers {', '.join(sorted(offered)[:20]) or 'nothing'})"
                )
            return wanted
        for prefix in PREFERRED:
            if prefix in offered:
                return prefix
        raise FatalHarvestError(
            f"OAI-PMH repository {self.config.url} offers none of {', '.join(PREFERRED)}"
        )

    def _item(self, record: OaiRecord, prefix: str) -> Iterator[Item]:
        header = record.header
        if not header.identifier:
            self.report.failure("", "a record header without an identifier")
            return
        if header.deleted:
            yield Deleted(kind="dataset", native_id=header.identifier)
            return
        try:
            yield _dataset(record, prefix)
        except mapping.MappingError as exc:
            self.report.failure(header.identifier, str(exc))


def _dataset(record: OaiRecord, prefix: str) -> DatasetRecord:
    payload = record.metadata
    if payload is None:
        raise mapping.MappingError("a record without metadata")
    if prefix == "oai_dc":
        meta = mapping.from_dublin_core(payload)
        identifier = mapping.dc_identifier(payload)
    else:
        resource = mapping.datacite_resource(payload)
        if resource is None:
            raise mapping.MappingError(f"{prefix} metadata without a DataCite resource")
        meta = mapping.from_datacite(resource)
        identifier = mapping.datacite_identifier(resource)
    titles = [t["title"] for t in meta.get("titles", []) if t.get("title")]
    if not titles:
        raise mapping.MappingError("a record without a title")
    description = next(
        (d["description"] for d in meta.get("descriptions", []) if d.get("description")), ""
    )
    doi = meta.get("doi")
    landing = meta.get("url") or (f"https://doi.org/{doi}" if doi else None)
    return DatasetRecord(
        native_id=record.header.identifier[:512],
        title=titles[0][:1024],
        description=description,
        identifier=identifier[:512] if identifier else None,
        landing_page=landing[:2048] if landing else None,
        meta={**meta, "url": landing} if landing else meta,
    )


def _from(since: Cursor | None, identity: Identity) -> str | None:
    """The bookmark at the repository's granularity (a day-granular one gets the whole day
    again: at least once)."""
    if not isinstance(since, str) or not since:
        return None
    return since if "hh" in identity.granularity else since[:10]
