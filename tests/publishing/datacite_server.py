"""A DataCite REST API contract server: real HTTP on 127.0.0.1, built from DataCite's REST API
documentation and the recorded API JSON in `shared/data/oai-pmh/datacite-viringo/`.

Covered: `POST /dois`, `PUT /dois/{doi}` (creates when absent, as DataCite does), `GET /dois/{doi}`,
`GET /dois?client-id=`, `DELETE /dois/{doi}`; JSON:API documents (`data.type = "dois"`,
`attributes`, `relationships.client`, `meta.total`); states draft → registered → findable through
the events `register`, `publish`, `hide`, with DataCite's transitions; mandatory properties
checked before a DOI leaves the draft state and controlled values (resourceTypeGeneral,
relationType, relatedIdentifierType, nameIdentifierScheme) checked always, answered with 422
and a `source` per error; HTTP basic auth (401 for missing or wrong credentials, 403 for a DOI
or prefix of another repository), 404 for unknown DOIs, 405 for deleting a non-draft DOI, 400
for a body that is not a JSON:API document. Faults (`fail_next`) answer 5xx to test retries.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

JSON_API = "application/vnd.api+json"
RESOURCE_TYPES = frozenset(
    [
        "Audiovisual",
        "Award",
        "Book",
        "BookChapter",
        "Collection",
        "ComputationalNotebook",
        "ConferencePaper",
        "ConferenceProceeding",
        "DataPaper",
        "Dataset",
        "Dissertation",
        "Event",
        "Image",
        "Instrument",
        "InteractiveResource",
        "Journal",
        "JournalArticle",
        "Model",
        "OutputManagementPlan",
        "PeerReview",
        "PhysicalObject",
        "Preprint",
        "Project",
        "Report",
        "Service",
        "Software",
        "Sound",
        "Standard",
        "StudyRegistration",
        "Text",
        "Workflow",
        "Other",
    ]
)
RELATION_TYPES = frozenset(
    [
        "IsCitedBy",
        "Cites",
        "IsSupplementTo",
        "IsSupplementedBy",
        "IsContinuedBy",
        "Continues",
        "IsDescribedBy",
        "Describes",
        "HasMetadata",
        "IsMetadataFor",
        "HasVersion",
        "IsVersionOf",
        "IsNewVersionOf",
        "IsPreviousVersionOf",
        "IsPartOf",
        "HasPart",
        "IsPublishedIn",
        "IsReferencedBy",
        "References",
        "IsDocumentedBy",
        "Documents",
        "IsCompiledBy",
        "Compiles",
        "IsVariantFormOf",
        "IsOriginalFormOf",
        "IsIdenticalTo",
        "IsReviewedBy",
        "Reviews",
        "IsDerivedFrom",
        "IsSourceOf",
        "IsRequiredBy",
        "Requires",
        "IsObsoletedBy",
        "Obsoletes",
        "IsCollectedBy",
        "Collects",
    ]
)
IDENTIFIER_TYPES = frozenset(
    [
        "ARK",
        "arXiv",
        "bibcode",
        "CSTR",
        "DOI",
        "EAN13",
        "EISSN",
        "Handle",
        "IGSN",
        "ISBN",
        "ISSN",
        "ISTC",
        "LISSN",
        "LSID",
        "PMID",
        "PURL",
        "RRID",
        "UPC",
        "URL",
        "URN",
        "w3id",
    ]
)
# DataCite's state machine: event → (states it may leave, state it reaches)
EVENTS = {
    "register": ({"draft"}, "registered"),
    "publish": ({"draft", "registered"}, "findable"),
    "hide": ({"findable"}, "registered"),
}
DOI = re.compile(r"^10\.\d{4,9}/[^\s]+$")


class Fault(Exception):
    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        self.status, self.errors = status, errors


def _error(status: int, title: str, source: str | None = None, uid: str | None = None) -> Fault:
    body: dict[str, Any] = {"status": str(status), "title": title}
    if source:
        body["source"] = source
    if uid:
        body["uid"] = uid
    return Fault(status, [body])


class DataCiteContract:
    """The server's state: repositories (id → password, prefixes) and DOIs."""

    def __init__(self) -> None:
        self.repositories: dict[str, tuple[str, set[str]]] = {}
        self.dois: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []
        self._faults: list[int] = []
        self._lock = threading.Lock()

    def add_repository(self, repository_id: str, password: str, *prefixes: str) -> None:
        self.repositories[repository_id.lower()] = (password, set(prefixes))

    def fail_next(self, status: int, times: int = 1) -> None:
        """Answer the next `times` requests with `status` (a 5xx outage, a 429)."""
        self._faults += [status] * times

    def seed(self, document: dict[str, Any], repository_id: str) -> None:
        """Load a recorded DataCite JSON:API document (e.g. `datacite_api_doi.json`)."""
        data = document["data"]
        self.dois[data["id"].lower()] = {**data["attributes"], "_client": repository_id}

    # -- request handling ------------------------------------------------------------------------
    def handle(self, method: str, path: str, auth: str | None, body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, path))
            if self._faults:
                status = self._faults.pop(0)
                raise _error(
                    status, "Service unavailable" if status >= 500 else "Too many requests"
                )
            parts = urlsplit(path)
            segments = [unquote(s) for s in parts.path.strip("/").split("/", 1)]
            if segments[0] != "dois":
                raise _error(404, "The resource you are looking for doesn't exist.")
            doi = segments[1].lower() if len(segments) > 1 and segments[1] else None
            client = self._client(auth, required=method != "GET")
            if method == "GET":
                return self._get(doi, client, parse_qs(parts.query))
            if method == "POST" and doi is None:
                return self._write(None, client, _document(body), create_only=True)
            if method == "PUT" and doi is not None:
                return self._write(doi, client, _document(body), create_only=False)
            if method == "DELETE" and doi is not None:
                return self._delete(doi, client)
            raise _error(405, "Method not allowed")

    def _client(self, auth: str | None, required: bool) -> str | None:
        if not auth or not auth.startswith("Basic "):
            if required:
                raise _error(401, "Bad credentials.")
            return None
        try:
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise _error(401, "Bad credentials.") from None
        known = self.repositories.get(user.lower())
        if known is None or known[0] != password:
            raise _error(401, "Bad credentials.")
        return user.lower()

    def _owned(self, doi: str, client: str | None) -> dict[str, Any]:
        record = self.dois.get(doi)
        visible = record is not None and (
            record["_client"] == client or (client is None and record["state"] == "findable")
        )
        if record is None or (not visible and client is None):
            raise _error(404, "The resource you are looking for doesn't exist.")
        if not visible:
            raise _error(403, "You are not authorized to access this resource.")
        return record

    def _get(
        self, doi: str | None, client: str | None, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        if doi is not None:
            return 200, _resource(self._owned(doi, client))
        wanted = (query.get("client-id") or [None])[0]
        found = [
            r for r in self.dois.values()
            if (r["_client"] == client or r["state"] == "findable")
            and (wanted is None or r["_client"] == wanted.lower())
        ]  # fmt: skip
        return 200, {
            "data": [_resource(r)["data"] for r in found],
            "meta": {"total": len(found), "totalPages": 1, "page": 1},
            "links": {"self": "/dois"},
        }

    def _write(
        self, doi: str | None, client: str | None, doc: dict[str, Any], create_only: bool
    ) -> tuple[int, Any]:
        assert client is not None
        attributes = dict(doc["data"].get("attributes") or {})
        doi = doi or str(attributes.get("doi") or "").lower()
        if not DOI.match(doi):
            raise _error(422, "Doi is invalid", "doi", doi)
        if doi.split("/", 1)[0] not in self.repositories[client][1]:
            raise _error(403, "You are not authorized to access this resource.")
        existing = self.dois.get(doi)
        if existing is not None and existing["_client"] != client:
            raise _error(403, "You are not authorized to access this resource.")
        if existing is not None and create_only:
            raise _error(422, "This DOI has already been taken", "doi", doi)
        record = dict(existing or {"state": "draft", "created": _now(), "_client": client})
        event = attributes.pop("event", None)
        record.update({k: v for k, v in attributes.items() if not k.startswith("_")})
        record.update({"doi": doi, "prefix": doi.split("/")[0], "suffix": doi.split("/", 1)[1]})
        if event is not None:
            if event not in EVENTS or record["state"] not in EVENTS[event][0]:
                raise _error(
                    422, f"Event {event} is not allowed in state {record['state']}", "event", doi
                )
            record["state"] = EVENTS[event][1]
        _validate(record, doi)
        record["updated"] = _now()
        if record["state"] != "draft":
            record.setdefault("registered", _now())
        record["isActive"] = record["state"] == "findable"
        self.dois[doi] = record
        return (201 if existing is None else 200), _resource(record)

    def _delete(self, doi: str, client: str | None) -> tuple[int, Any]:
        record = self._owned(doi, client)
        if record["state"] != "draft":
            raise _error(405, "Method not allowed")
        del self.dois[doi]
        return 204, None


def _document(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body or b"null")
    except ValueError:
        raise _error(400, "You need to provide a payload following the JSONAPI spec") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), dict):
        raise _error(400, "You need to provide a payload following the JSONAPI spec")
    if doc["data"].get("type") != "dois":
        raise _error(400, "You need to provide a payload following the JSONAPI spec")
    return doc


def _validate(record: dict[str, Any], doi: str) -> None:
    """Controlled values always; the mandatory properties once the DOI leaves the draft state."""
    errors: list[dict[str, Any]] = []

    def fail(source: str, title: str) -> None:
        errors.append({"status": "422", "source": source, "title": title, "uid": doi})

    types = record.get("types") or {}
    general = types.get("resourceTypeGeneral")
    if general is not None and general not in RESOURCE_TYPES:
        fail("types", f"Resource type general {general} is not a valid value")
    for i, rel in enumerate(record.get("relatedIdentifiers") or []):
        if rel.get("relationType") not in RELATION_TYPES:
            fail("relatedIdentifiers", f"Relation type is not valid (item {i})")
        if rel.get("relatedIdentifierType") not in IDENTIFIER_TYPES:
            fail("relatedIdentifiers", f"Related identifier type is not valid (item {i})")
    for person in (record.get("creators") or []) + (record.get("contributors") or []):
        for ident in person.get("nameIdentifiers") or []:
            if ident.get("nameIdentifierScheme") == "ORCID" and not re.search(
                r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]$", str(ident.get("nameIdentifier"))
            ):
                fail("creators", "Name identifier is not a valid ORCID")
    if record["state"] != "draft":
        _mandatory(record, fail)
    if errors:
        raise Fault(422, errors)


def _mandatory(record: dict[str, Any], fail: Any) -> None:
    if not record.get("url") or not re.match(r"^https?://", str(record["url"])):
        fail("url", "Url can't be blank" if not record.get("url") else "Url is not a valid URL")
    if not record.get("creators") or not all(c.get("name") for c in record["creators"]):
        fail("creators", "DOI {} creators: Creator is required".format(record["doi"]))
    if not record.get("titles") or not all(t.get("title") for t in record["titles"]):
        fail("titles", "Title is required")
    if not record.get("publisher"):
        fail("publisher", "Publisher is required")
    year = record.get("publicationYear")
    if not (isinstance(year, int) or str(year).isdigit()) or not 1000 <= int(year) <= 2100:
        fail("publicationYear", "Publication year is required and must be a year")
    if not (record.get("types") or {}).get("resourceTypeGeneral"):
        fail("types", "Resource type general is required")


def _resource(record: dict[str, Any]) -> dict[str, Any]:
    attributes = {k: v for k, v in record.items() if not k.startswith("_")}
    attributes.setdefault("identifiers", [])
    attributes["published"] = str(attributes.get("publicationYear") or "") or None
    return {
        "data": {
            "id": record["doi"],
            "type": "dois",
            "attributes": attributes,
            "relationships": {"client": {"data": {"id": record["_client"], "type": "clients"}}},
        }
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class _Handler(BaseHTTPRequestHandler):
    contract: DataCiteContract

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 5_000_000))
        try:
            status, answer = self.contract.handle(
                self.command, self.path, self.headers.get("Authorization"), body
            )
        except Fault as fault:
            status, answer = fault.status, {"errors": fault.errors}
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        if payload:
            self.send_header("Content-Type", JSON_API)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet under pytest
        return


@contextmanager
def serve(contract: DataCiteContract) -> Iterator[str]:
    """Serve `contract` on a free loopback port; yields its base URL."""
    handler = type("Handler", (_Handler,), {"contract": contract})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="datacite-contract", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
