"""OAI-PMH: every verb and error validates against OAI-PMH.xsd; paging, dates, sets, deletions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from lxml import etree
from sqlmodel import Session, col, update

from catalogue.exports.oaipmh import OaiConfig, OaiProvider, assign_sets
from catalogue.exports.oaipmh.protocol import ListRequest
from catalogue.exports.oaipmh.repository import page_statement
from catalogue.models import Collection, Dataset, Site, Source, Subject, Visibility
from catalogue.store import Store
from tests.exports.conftest import KERNEL_45_XSD, NODE, OAI_PMH_XSD, publish, xml_schema

NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "od": "http://schema.datacite.org/oai/oai-1.1/",
    "d": "http://datacite.org/schema/kernel-4",
}


def provider(store: Store, page_size: int = 100) -> OaiProvider:
    config = OaiConfig("http://node.test/oai", NODE.name, "curators@node.test", page_size)
    return OaiProvider(store, NODE, config)


def ask(oai: OaiProvider, **args: str) -> etree._Element:
    query = [(k.rstrip("_"), v) for k, v in args.items()]
    body = b"".join(oai.respond(query))
    doc = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    xml_schema(OAI_PMH_XSD).assertValid(doc)
    return doc


def error_code(doc: etree._Element) -> str | None:
    error = doc.find("o:error", NS)
    return None if error is None else error.get("code")


def identifiers(doc: etree._Element) -> list[str]:
    return [e.text or "" for e in doc.iterfind(".//o:header/o:identifier", NS)]


def test_identify_and_formats(store: Store):
    publish(store)
    oai = provider(store)
    identify = ask(oai, verb="Identify")
    assert identify.findtext("o:Identify/o:deletedRecord", namespaces=NS) == "persistent"
    assert identify.findtext("o:Identify/o:baseURL", namespaces=NS) == "http://node.test/oai"
    formats = ask(oai, verb="ListMetadataFormats")
    prefixes = [e.text for e in formats.iterfind(".//o:metadataPrefix", NS)]
    assert prefixes == ["oai_dc", "oai_datacite"]


def test_get_record_in_both_formats(store: Store):
    dataset, _ = publish(store)
    oai = provider(store)
    identifier = oai.identifier(dataset.id)
    dc = ask(oai, verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    assert dc.findtext(".//dc:title", namespaces=NS) == "Glioma MRI across two sites"
    assert "doi:10.80001/glioma-mri" in [e.text for e in dc.iterfind(".//dc:identifier", NS)]
    datacite = ask(oai, verb="GetRecord", identifier=identifier, metadataPrefix="oai_datacite")
    resource = datacite.find(".//od:payload/d:resource", NS)
    xml_schema(KERNEL_45_XSD).assertValid(etree.fromstring(etree.tostring(resource)))
    formats = ask(oai, verb="ListMetadataFormats", identifier=identifier)
    assert error_code(formats) is None


def test_list_records_pages_with_stateless_tokens(store: Store):
    made = {publish(store, slug=f"ds-{n}", versions=1)[0].id for n in range(7)}
    oai = provider(store, page_size=3)
    seen: list[str] = []
    args = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    cursors = []
    while True:
        doc = ask(oai, **args)
        seen += identifiers(doc)
        token = doc.find(".//o:resumptionToken", NS)
        assert token is not None and token.get("completeListSize") == "7"
        cursors.append(token.get("cursor"))
        if not token.text:
            break
        args = {"verb": "ListRecords", "resumptionToken": token.text}
    assert cursors == ["0", "3", "6"]
    assert sorted(seen) == sorted(oai.identifier(i) for i in made)
    headers = ask(oai, verb="ListIdentifiers", metadataPrefix="oai_datacite")
    assert len(identifiers(headers)) == 3 and headers.find(".//o:metadata", NS) is None


def test_deleted_and_hidden_datasets_stay_as_deleted_records(store: Store):
    publish(store, slug="gone", deleted=True)
    dataset, _ = publish(store, slug="hidden")
    with store.session() as session:
        hidden = session.get(Dataset, dataset.id)
        assert hidden is not None
        hidden.state = "hidden"  # type: ignore[assignment]
    doc = ask(provider(store), verb="ListRecords", metadataPrefix="oai_dc")
    records = doc.findall(".//o:record", NS)
    assert len(records) == 2
    for record in records:
        assert record.find("o:header", NS).get("status") == "deleted"
        assert record.find("o:metadata", NS) is None


def test_from_and_until_select_by_datestamp(store: Store):
    publish(store, slug="old")
    publish(store, slug="new")
    with store.session() as session:
        for slug, day in (("old", 1), ("new", 20)):
            stamp = datetime(2026, 3, day, 12, tzinfo=UTC)
            session.exec(update(Dataset).where(col(Dataset.slug) == slug).values(updated_at=stamp))
    session_free = provider(store)
    early = ask(session_free, verb="ListIdentifiers", metadataPrefix="oai_dc", until="2026-03-01")
    assert len(identifiers(early)) == 1
    late = ask(
        session_free, verb="ListIdentifiers", metadataPrefix="oai_dc", from_="2026-03-20T12:00:00Z"
    )
    assert len(identifiers(late)) == 1
    none = ask(session_free, verb="ListIdentifiers", metadataPrefix="oai_dc", from_="2027-01-01")
    assert error_code(none) == "noRecordsMatch"


def test_sets_per_site_and_public_collection(store: Store):
    with store.session() as session:
        site = Site(slug="north-hospital", name="North Hospital")
        session.add(site)
        session.flush()
        source = Source(name="north-pacs", kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()
        public = Collection(source_id=source.id, native_id="p", site_id=site.id, title="Glioma")
        private = Collection(
            source_id=source.id, native_id="q", site_id=site.id, title="Secret",
            visibility=Visibility.PRIVATE,
        )  # fmt: skip
        session.add_all([public, private])
        session.flush()
        subject = Subject(source_id=source.id, native_id="sub-1", collection_id=private.id)
        session.add(subject)
    dataset, _ = publish(store)
    publish(store, slug="unrelated")
    with Session(store.engine) as session:
        specs = assign_sets(session, dataset.id, [public.iri or "", subject.iri or ""])
        session.commit()
    assert specs == ["collection:" + str(public.id), "site:north-hospital"]
    oai = provider(store)
    listed = ask(oai, verb="ListSets")
    assert [e.text for e in listed.iterfind(".//o:setSpec", NS)] == specs
    in_site = ask(oai, verb="ListIdentifiers", metadataPrefix="oai_dc", set="site:north-hospital")
    assert identifiers(in_site) == [oai.identifier(dataset.id)]


ERRORS: list[tuple[dict[str, str], str]] = [
    ({}, "badVerb"),
    ({"verb": "Frobnicate"}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "Identify", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from_": "yesterday"}, "badArgument"),
    (
        {
            "verb": "ListRecords",
            "metadataPrefix": "oai_dc",
            "from_": "2026-01-01",
            "until": "2025-01-01",
        },
        "badArgument",
    ),
    (
        {"verb": "ListRecords", "resumptionToken": "x", "metadataPrefix": "oai_dc"},
        "badArgument",
    ),
    ({"verb": "ListRecords", "resumptionToken": "bm90IGEgdG9rZW4"}, "badResumptionToken"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    (
        {"verb": "GetRecord", "identifier": "oai:node.test:nope", "metadataPrefix": "oai_dc"},
        "idDoesNotExist",
    ),
    ({"verb": "ListMetadataFormats", "identifier": "oai:elsewhere:1"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "site:none"}, "noRecordsMatch"),
    ({"verb": "ListSets"}, "noSetHierarchy"),
]


def test_every_protocol_error(store: Store):
    publish(store)
    oai = provider(store)
    for args, code in ERRORS:
        doc = ask(oai, **args)
        assert error_code(doc) == code, args
        request = doc.find("o:request", NS)
        if code in {"badVerb", "badArgument"}:
            assert dict(request.attrib) == {}


def test_a_repeated_argument_is_bad(store: Store):
    oai = provider(store)
    body = b"".join(oai.respond([("verb", "Identify"), ("verb", "Identify")]))
    assert b'code="badVerb"' in body
    body = b"".join(
        oai.respond([("verb", "ListSets"), ("resumptionToken", "a"), ("resumptionToken", "b")])
    )
    assert b'code="badArgument"' in body


def test_a_page_walks_the_primary_key_on_sqlite(sqlite_store: Store):
    """The plan, not a timing: no page sorts the whole catalogue (ListRecords stays linear)."""
    store = sqlite_store
    request = ListRequest(prefix="oai_dc", after=uuid.uuid4())
    sql = page_statement(request, 100).compile(store.engine, compile_kwargs={"literal_binds": True})
    with store.engine.connect() as conn:
        plan = " ".join(row[-1] for row in conn.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "TEMP B-TREE" not in plan and "(id>?)" in plan, plan
