"""XNAT harvester: projects -> subjects -> image sessions -> scans over the REST API.

A run lists the projects (`/data/projects`), then per project its accessibility, subjects and
experiments (`/data/projects/{id}/subjects|experiments`, JSON `ResultSet`, paged with
limit/offset where the server pages); then, per image session changed since the bookmark, its
scans (`/data/experiments/{id}/scans`) and, when the listing lacks the scan detail (frames,
field strength, scanner, parameters), the experiment document (`?format=xml`).

Incremental: an experiment's cursor is when XNAT last changed it (`last_modified`, else
`insert_date`). Sessions are harvested in that order, across projects, so cursors ascend; a
resumed run harvests every session changed at or after the bookmark. Listings are cheap and
walked in full every run; only full runs drive deletions.

Privacy: subjects are keyed by a keyed pseudonym of their XNAT accession number (or, with
`subject_key: label`, of their label, which lines up with DICOM PatientID pseudonyms where the
site labels subjects so). Labels never enter a record; requests name subjects and sessions only
by accession number. Shared subjects and sessions are harvested once, under the first project
(by ID) that lists them.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Self
from urllib.parse import quote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from catalogue.errors import FatalHarvestError, RetriableHarvestError
from catalogue.models import Visibility
from catalogue.records import Cursor, Item, Record, SubjectRecord
from harvesters.base import Harvester, Report
from harvesters.fetch import RETRY_STATUS, FetchConfig
from harvesters.pseudonyms import Pseudonymiser, from_context
from harvesters.xnat import mapping
from harvesters.xnat.client import Credentials, RequestFailed, Row, XnatClient
from harvesters.xnat.session_xml import BadDocument, SessionDetail, parse_session

SUBJECT_COLUMNS = "ID,label,project,gender,dob,yob,group,insert_date,last_modified"
EXPERIMENT_COLUMNS = "ID,label,project,xsiType,date,age,subject_ID,insert_date,last_modified"
_DETAIL_KEYS = ("frames", "fieldStrength", "parameters/tr", "scanner/manufacturer")
_KEPT = ("ID", "xsiType", "date", "age", "subject_ID", "label")  # of an experiment row
_SESSION = re.compile(r"xnat:\w+SessionData")
_DEFAULT_VISIBILITY = {
    "public": Visibility.PUBLIC,
    "protected": Visibility.AGGREGATE,
    "private": Visibility.PRIVATE,
}


class XnatConfig(FetchConfig):
    source_kind: ClassVar[str] = "XNAT"
    url_means: ClassVar[str] = "the http(s) URL of the XNAT root"
    accept: ClassVar[str] = "application/json, application/xml;q=0.9"
    retry_status: ClassVar[frozenset[int]] = RETRY_STATUS - {500}  # a 500 concerns one request

    url: str = Field(description="XNAT root, e.g. https://xnat.example.org (without /data)")
    username: str | None = Field(None, description="XNAT user (with password)")
    password: SecretStr | None = Field(None, description="the user's password")
    alias: str | None = Field(None, description="alias token: its alias (with secret)")
    secret: SecretStr | None = Field(None, description="alias token: its secret")
    projects: tuple[str, ...] = Field(
        (), description="harvest only these project IDs (default: every project readable)"
    )
    visibility: dict[str, Visibility] = Field(
        default_factory=lambda: dict(_DEFAULT_VISIBILITY),
        description="project accessibility (public/protected/private) -> collection "
        "visibility; anything else is private",
    )
    subject_key: Literal["accession", "label"] = Field(
        "accession",
        description="what the subject pseudonym is keyed on: the XNAT accession number, or "
        "the label (lines up with DICOM PatientID pseudonyms; labels must be unique site-wide)",
    )
    scan_detail: Literal["auto", "xml", "listing"] = Field(
        "auto",
        description="experiment XML: `auto` when the scan listing lacks detail, `xml` always, "
        "`listing` never (type, description, quality and modality only)",
    )
    page_size: int = Field(
        1000, ge=0, le=100_000, description="rows per listing request (0: no limit/offset)"
    )
    concurrency: int = Field(4, ge=1, le=32, description="sessions fetched at once")
    timeout_s: float = Field(30.0, gt=0, description="per-request timeout in seconds")
    retries: int = Field(2, ge=0, le=10, description="retries of a timeout, reset or 502/503/504")
    retry_wait_s: float = Field(1.0, ge=0, description="first wait before a retry (doubles)")

    @field_validator("url")
    @classmethod
    def _check_root(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.username or parts.password or parts.query:
            raise ValueError("url must not hold credentials or a query")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _check_auth(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if (self.alias is None) != (self.secret is None):
            raise ValueError("alias and secret go together")
        if self.username is not None and self.alias is not None:
            raise ValueError("choose a user (username/password) or an alias token, not both")
        return self

    def credentials(self) -> Credentials | None:
        if self.username is not None and self.password is not None:
            return Credentials(self.username, self.password.get_secret_value())
        if self.alias is not None and self.secret is not None:
            return Credentials(self.alias, self.secret.get_secret_value())
        return None

    def client(self) -> XnatClient:
        return XnatClient(self.url, self.credentials(), self.fetcher())


class XnatHarvester(Harvester[XnatConfig]):
    name = "xnat"
    Config = XnatConfig

    def check_connection(self) -> None:
        client = self.config.client()
        try:
            client.login()
            client.rows("/data/projects", {}, "project listing")
        except RequestFailed as exc:
            raise FatalHarvestError(
                f"no XNAT REST API at {self.config.url}: {exc.message} (is url the XNAT root?)"
            ) from None
        finally:
            client.close()

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        walk = _Walk(self.config, from_context(self.context, "XNAT subjects"), self.report)
        try:
            yield from walk.run(since if isinstance(since, str) else None)
        finally:
            walk.close()


@dataclass
class _Session:
    row: Row
    cursor: str | None
    scans: list[Row] = field(default_factory=list)
    detail: SessionDetail = field(default_factory=SessionDetail)
    error: str | None = None  # nothing usable
    notes: list[str] = field(default_factory=list)  # reported, records still made
    records: list[Record] = field(default_factory=list)  # the study and its series


class _Walk:
    """One run. Sessions are fetched and mapped `concurrency` at a time on worker threads (a
    worker goes on to its next request at once, instead of waiting for this thread to hold the
    interpreter lock); this one yields their records in the sessions' order, with each subject
    before its first study. Only this thread touches the report and what was yielded."""

    def __init__(self, config: XnatConfig, keys: Pseudonymiser, report: Report) -> None:
        self.config, self.keys, self.report = config, keys, report
        self.url = config.url
        self.client = config.client()
        self.pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="xnat")
        self.subjects: dict[str, tuple[SubjectRecord, mapping.Subject]] = {}
        self.yielded: set[str] = set()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.client.close()

    def run(self, since: str | None) -> Iterator[Item]:
        self.client.login()
        sessions: dict[str, _Session] = {}
        for project in self._projects():
            yield from self._project(project, since, sessions)
        ordered = deque(sorted(sessions.values(), key=lambda s: (s.cursor or "", str(s.row["ID"]))))
        sessions.clear()  # a session is dropped once yielded: memory grows with the listings only
        pending: deque[Future[_Session]] = deque()
        while ordered:
            pending.append(self.pool.submit(self._fetch, ordered.popleft()))
            if len(pending) > 4 * self.config.concurrency:  # (workers never wait for us)
                yield from self._records(pending.popleft().result())
        while pending:
            yield from self._records(pending.popleft().result())

    def _projects(self) -> list[Row]:
        try:
            rows = list(self._listing("/data/projects", {}, "project listing"))
        except RequestFailed as exc:  # without it there is nothing to walk
            if exc.status in (401, 403):
                raise FatalHarvestError(f"{exc.message}: check the account's rights") from None
            raise RetriableHarvestError(exc.message) from None
        wanted = set(self.config.projects)
        found = [r for r in rows if mapping.text(r, "ID") and (not wanted or r["ID"] in wanted)]
        return sorted(found, key=lambda r: str(r["ID"]))

    def _project(
        self, row: Row, since: str | None, sessions: dict[str, _Session]
    ) -> Iterator[Item]:
        project = str(row["ID"])
        base = f"/data/projects/{quote(project, safe='')}"
        try:
            access = self.client.text(f"{base}/accessibility", "project accessibility").strip()
        except RequestFailed as exc:
            self.report.failure(project, f"project: {exc.message}; harvested as private")
            access = "private"
        visibility = self.config.visibility.get(access.lower(), Visibility.PRIVATE)
        yield mapping.collection(row, visibility, self.url)
        query: dict[str, str | int] = {"columns": SUBJECT_COLUMNS}
        try:
            for subject in self._listing(f"{base}/subjects", query, "subject listing"):
                yield from self._subject(subject, project, since)
            query = {"columns": EXPERIMENT_COLUMNS}
            for experiment in self._listing(f"{base}/experiments", query, "experiment listing"):
                self._candidate(experiment, project, since, sessions)
        except RequestFailed as exc:
            self.report.failure(project, f"project: {exc.message}; the rest of it was skipped")

    def _subject(self, row: Row, project: str, since: str | None) -> Iterator[SubjectRecord]:
        accession = mapping.text(row, "ID")
        key = accession if self.config.subject_key == "accession" else mapping.text(row, "label")
        if accession is None or key is None or accession in self.subjects:
            if accession is None or key is None:
                self.report.failure(project, f"a subject without {self.config.subject_key}")
            return  # (or shared: harvested under its first project)
        kind = "xnat-subject" if self.config.subject_key == "accession" else "subject"
        record, who = mapping.subject(row, self.keys.pseudonym(kind, key), project)
        self.subjects[accession] = (record, who)
        changed = mapping.stamp(row)
        if since is None or changed is None or changed >= since:
            self.yielded.add(accession)
            yield record

    def _candidate(
        self, row: Row, project: str, since: str | None, sessions: dict[str, _Session]
    ) -> None:
        experiment = mapping.text(row, "ID")
        if experiment is None or not _SESSION.fullmatch(mapping.text(row, "xsiType") or ""):
            return  # not an image session (assessors, clinical forms)
        if experiment in sessions:
            return  # shared into this project: harvested under its first one
        changed = mapping.stamp(row)
        if since is None or changed is None or changed >= since:
            kept = {k: row[k] for k in _KEPT if k in row}
            sessions[experiment] = _Session({**kept, "project": project}, changed)

    def _listing(self, path: str, query: dict[str, str | int], what: str) -> Iterator[Row]:
        return self.client.listing(path, query, what, self.config.page_size)

    def _fetch(self, session: _Session) -> _Session:
        """The scans of a session and, where needed, its document (on a worker thread)."""
        if mapping.text(session.row, "subject_ID") not in self.subjects:
            session.error = "its subject is not in the subject listing"
            return session
        path = f"/data/experiments/{quote(str(session.row['ID']), safe='')}"
        try:
            session.scans = self.client.rows(f"{path}/scans", {}, "scan listing")[0]
        except RequestFailed as exc:
            session.error = exc.message
            return session
        mode = self.config.scan_detail
        lacking = not any(k in scan for scan in session.scans for k in _DETAIL_KEYS)
        if mode == "xml" or (mode == "auto" and lacking):
            try:
                session.detail = parse_session(self.client.xml(path, "experiment document"))
            except (RequestFailed, BadDocument) as exc:
                session.notes.append(f"study: {exc.message}; scans from the listing only")
        self._map(session)
        return session

    def _map(self, session: _Session) -> None:
        """The session's study and series records (on a worker thread: reads only)."""
        who = self.subjects[str(mapping.text(session.row, "subject_ID"))][1]
        detail = session.detail.session
        labels = (*who.labels, *filter(None, [mapping.text(session.row, "label")]))
        try:
            study = mapping.study(session.row, who, detail, self.url, session.cursor)
            session.records.append(study)
            for scan in _scans(session):
                if mapping.text(scan, "ID") is None:
                    session.notes.append("series: a scan without an ID")
                else:
                    session.records.append(mapping.series(study, scan, detail, labels))
        except PydanticValidationError as exc:  # its message would quote the value
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            session.error = f"XNAT sent values that do not fit {', '.join(fields) or 'a record'}"
            session.records.clear()

    def _records(self, session: _Session) -> Iterator[Record]:
        experiment = str(session.row["ID"])
        if session.error is not None:
            self.report.failure(experiment, f"study: {session.error}")
            return
        for note in session.notes:
            self.report.failure(experiment, note)
        subject_id = str(session.row["subject_ID"]).strip()
        if subject_id not in self.yielded:
            self.yielded.add(subject_id)
            yield self.subjects[subject_id][0]
        yield from session.records


def _scans(session: _Session) -> list[Row]:
    """The listing's scans, each completed with the document's fields for it (the document's
    scans alone when the listing is empty)."""
    detail = session.detail.scans
    if not session.scans:
        return [{"ID": scan_id, **fields} for scan_id, fields in detail.items()]
    return [{**scan, **detail.get(str(scan.get("ID", "")).strip(), {})} for scan in session.scans]
