"""A contract OAI-PMH repository from recorded real responses, served by `partner_server`.

Identify, ListMetadataFormats and ListSets answer with real files (DataCite's provider by
default). ListRecords works in one of two ways:

- `chain`: real files verbatim, the first page per metadata prefix, and each resumption token
  naming the next file (as in sickle's sample data: `ListRecords.xml` → `ListRecords2.xml` ...);
  an unknown token gets the real `badResumptionToken.xml`.
- `pages`: pages of real `<record>` elements (and records made from them in the same shape, for
  volume) in a generated envelope, with `page-N` tokens; `from` is honoured (records with an
  older datestamp are left out, and an empty result is the real `noRecordsMatch.xml`).

The test files are trusted, so this side parses them with plain lxml.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree  # type: ignore[import-untyped]

from tests.conftest import SHARED_DATA
from tests.harvesters.partner_server import Reply

OAI_DATA = SHARED_DATA / "oai-pmh"
SICKLE = OAI_DATA / "sickle" / "sickle" / "tests" / "sample_data"
VIRINGO = OAI_DATA / "datacite-viringo" / "tests" / "integration" / "fixtures"
OAI = "http://www.openarchives.org/OAI/2.0/"
NS = {"oai": OAI}
RESPONSE_DATE = "2024-05-01T12:00:00Z"


def records_in(path: Path) -> list[etree._Element]:
    root = etree.fromstring(path.read_bytes())
    return list(root.iter(f"{{{OAI}}}record"))


def datacite_record(number: int, datestamp: str, title: str = "") -> etree._Element:
    """DataCite's real oai_datacite record, with its identifiers and datestamp renumbered."""
    record = copy.deepcopy(records_in(VIRINGO / "oai_getrecord_oaidatacite.xml")[0])
    doi = f"10.5072/example-{number}"
    record.find("oai:header/oai:identifier", NS).text = f"doi:{doi}"
    record.find("oai:header/oai:datestamp", NS).text = datestamp
    for element in record.iter("{http://datacite.org/schema/kernel-4}identifier"):
        element.text = doi
    for element in record.iter("{http://datacite.org/schema/kernel-4}title"):
        element.text = title or f"Example dataset {number}"
    return record


def deleted_record(identifier: str, datestamp: str) -> etree._Element:
    record = copy.deepcopy(records_in(SICKLE / "ListRecords.xml")[0])  # the real deleted one
    record.find("oai:header/oai:identifier", NS).text = identifier
    record.find("oai:header/oai:datestamp", NS).text = datestamp
    return record


@dataclass
class OaiRepository:
    identify: Path = VIRINGO / "oai_identify.xml"
    formats: Path = VIRINGO / "oai_listmetadataformats.xml"
    sets: Path = VIRINGO / "oai_listsets.xml"
    chain: dict[str, Path] = field(default_factory=dict)
    pages: dict[str, list[list[etree._Element]]] = field(default_factory=dict)
    response_date: str = RESPONSE_DATE

    def __call__(self, path: str, params: dict[str, str]) -> Reply:
        verb = params.get("verb")
        if verb == "Identify":
            return Reply(body=self.identify.read_bytes())
        if verb == "ListMetadataFormats":
            return Reply(body=self.formats.read_bytes())
        if verb == "ListSets":
            return Reply(body=self.sets.read_bytes())
        if verb == "ListRecords":
            return self._list_records(params)
        return Reply(body=error_document("badVerb", "Illegal OAI verb"))

    def _list_records(self, params: dict[str, str]) -> Reply:
        token = params.get("resumptionToken")
        if self.chain:
            if token is None:
                first = self.chain.get(params.get("metadataPrefix", ""))
                if first is None:
                    return Reply(body=(SICKLE / "cannotDisseminateFormat.xml").read_bytes())
                return Reply(body=first.read_bytes())
            if (SICKLE / token).is_file():
                return Reply(body=(SICKLE / token).read_bytes())
            return Reply(body=(SICKLE / "badResumptionToken.xml").read_bytes())
        return self._page(params, token)

    def _page(self, params: dict[str, str], token: str | None) -> Reply:
        if token is None:
            prefix, since, number = params.get("metadataPrefix", ""), params.get("from", ""), 0
            if prefix not in self.pages:
                return Reply(body=(SICKLE / "cannotDisseminateFormat.xml").read_bytes())
        else:
            try:
                prefix, since, raw = token.split("|")
                number = int(raw)
            except ValueError:
                return Reply(body=(SICKLE / "badResumptionToken.xml").read_bytes())
        pages = [
            [r for r in page if _datestamp(r)[: len(since)] >= since] for page in self.pages[prefix]
        ]
        pages = [page for page in pages if page]
        if not pages:
            return Reply(body=(SICKLE / "noRecordsMatch.xml").read_bytes())
        following = f"{prefix}|{since}|{number + 1}" if number + 1 < len(pages) else ""
        return Reply(body=self._envelope(pages[number], following))

    def _envelope(self, records: list[etree._Element], token: str) -> bytes:
        root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI})
        etree.SubElement(root, f"{{{OAI}}}responseDate").text = self.response_date
        etree.SubElement(root, f"{{{OAI}}}request", verb="ListRecords").text = "http://test/oai"
        listing = etree.SubElement(root, f"{{{OAI}}}ListRecords")
        listing.extend(copy.deepcopy(r) for r in records)
        etree.SubElement(listing, f"{{{OAI}}}resumptionToken").text = token or None
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _datestamp(record: etree._Element) -> str:
    return str(record.findtext("oai:header/oai:datestamp", namespaces=NS) or "")


def error_document(code: str, text: str) -> bytes:
    """An OAI-PMH error answer (for the codes no recorded file shows)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="{OAI}">'
        f"<responseDate>{RESPONSE_DATE}</responseDate><request>http://test/oai</request>"
        f'<error code="{code}">{text}</error></OAI-PMH>'
    ).encode()


def example_repository(pages: int = 3, per_page: int = 2) -> OaiRepository:
    """DataCite's provider with `pages` pages of `oai_datacite` records, dated 2020-01-NN."""
    numbers = iter(range(1, pages * per_page + 1))
    return OaiRepository(
        pages={
            "oai_datacite": [
                [
                    datacite_record(n, f"2020-01-{n:02d}T00:00:00Z")
                    for n in [next(numbers) for _ in range(per_page)]
                ]
                for _ in range(pages)
            ]
        }
    )
