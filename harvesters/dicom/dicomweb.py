"""DICOMweb harvester: QIDO-RS listings of studies and series, WADO-RS metadata where needed.

Per window (see `_query`): the studies, paged with limit/offset until a short page (a `Warning`
header saying more results exist keeps paging); per study, its series with `includefield` for
every attribute the de-identification profile reads. Many of those are instance-level; a series
answer lacking them (no SOPClassUID) is completed from WADO-RS metadata. `metadata` chooses:

- `auto` (default): metadata only for series whose QIDO answer lacks instance-level attributes,
  and then of the first instance only. Orthanc answers them in QIDO (it reads one instance of the
  series): no extra request there.
- `first`: always the metadata of the first instance (QIDO instances limit=1, then WADO-RS):
  cheap and constant per series, but parameters that vary (multi-echo TE) show only one value.
- `all`: the series metadata, every instance: SOP classes and varying parameters are complete,
  at a cost that grows with the instances (a 2,000-slice CT is 2,000 JSON objects).

While this thread decodes and de-identifies, the requests for the next `concurrency` studies of
the window are already out, so the server's time and ours overlap; records keep the window's order.

Access addresses (see `_query.QueryConfig`): by default a series record carries none, and the
collection carries the DICOMweb root. `{url}/studies/{study_uid}/series/{series_uid}` is what an
authorised user at the site would fetch, but Study and Series Instance UIDs are identifiers
(PS3.15 replaces them): anyone who holds a copy of the images could link them to the catalogue
record. So a record gets them only with `expose_uids_in_access_url: true` (then that address is
the default), for a catalogue that stays inside the site; otherwise a template can point at a
site service with the pseudonyms (`{series}`), which the site, holding the secret, can resolve.

Query strings are built by hand from a safe alphabet: Orthanc 1.10 does not percent-decode them.
Error bodies and URLs hold UIDs: no error message repeats them, none is chained, and httpx's
request log lines are redacted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator, model_validator
from pydicom.dataset import Dataset

from catalogue.errors import FatalHarvestError, RetriableHarvestError, SkippableHarvestError
from catalogue.records import Cursor, Item, Record
from harvesters.base import Harvester
from harvesters.dicom._query import (
    AccessTemplates,
    Edge,
    QueryConfig,
    StudyRef,
    is_uid,
    merged,
    parse_da,
    quiet_pydicom,
    walk_studies,
)
from harvesters.fetch import transport_reason

_SAFE = re.compile(r"[A-Za-z0-9.,\-]*")
_RETRY_LATER = {408, 425, 429, 502, 503, 504}  # a 500 is about one record: reported
_SOP_CLASS_UID = "00080016"


class DicomWebConfig(QueryConfig):
    url: str = Field(description="DICOMweb root, e.g. https://pacs.example.org/dicom-web")
    username: str | None = Field(None, description="HTTP basic auth user (with password)")
    password: SecretStr | None = Field(None, description="HTTP basic auth password")
    token: SecretStr | None = Field(None, description="bearer token (instead of basic auth)")
    page_size: int = Field(500, ge=1, le=10_000, description="QIDO-RS results per request")
    timeout_s: float = Field(30.0, gt=0, description="per-request timeout in seconds")
    verify_tls: bool = Field(True, description="check the server's TLS certificate")
    metadata: Literal["auto", "first", "all"] = Field(
        "auto", description="when to fetch WADO-RS metadata (see the harvester's docs)"
    )
    concurrency: int = Field(
        4, ge=1, le=32, description="requests in flight at once (the next studies' series)"
    )

    static_placeholders: ClassVar[frozenset[str]] = frozenset({"url"})

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http(s) URL of the DICOMweb root")
        if parts.username or parts.password or parts.query:
            raise ValueError("url must not hold credentials or a query (use username/token)")
        return url.rstrip("/")

    @model_validator(mode="after")
    def _check_auth(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.token is not None and self.username is not None:
            raise ValueError("choose basic auth (username/password) or a bearer token, not both")
        return self

    def templates(self) -> AccessTemplates:
        """The configured templates; without them, the DICOMweb address of the series when UIDs
        may be exposed, and no per-series address otherwise."""
        study, series = self.study_access_url_template, self.access_url_template
        if self.expose_uids_in_access_url and study is None and series is None:
            study = "{url}/studies/{study_uid}"
            series = study + "/series/{series_uid}"
        return AccessTemplates(study, series, {"url": self.url})


_UID_IN_URL = re.compile(r"(/(?:studies|series|instances)/|InstanceUID=)[^/?&\s\"]+")


class _RedactUids(logging.Filter):
    """httpx logs every request's URL at INFO, and ours hold Study/Series/SOP Instance UIDs:
    this keeps the log line and replaces the UIDs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _UID_IN_URL.sub(r"\1{uid}", str(a)) if isinstance(a, httpx.URL | str) else a
                for a in record.args
            )
        return True


def _redact_httpx_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUids) for f in logger.filters):
        logger.addFilter(_RedactUids())


class _HttpError(SkippableHarvestError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class Qido:
    """A DICOM JSON client that maps every failure onto the harvest error tree."""

    def __init__(self, config: DicomWebConfig) -> None:
        self.root = config.url
        self.page_size = config.page_size
        self.timeout_s = config.timeout_s
        auth = None
        headers = {"Accept": "application/dicom+json"}
        if config.username is not None and config.password is not None:
            auth = httpx.BasicAuth(config.username, config.password.get_secret_value())
        if config.token is not None:
            headers["Authorization"] = f"Bearer {config.token.get_secret_value()}"
        _redact_httpx_logs()
        self.http = httpx.Client(
            auth=auth, headers=headers, timeout=config.timeout_s, verify=config.verify_tls
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, query: dict[str, str | int], what: str) -> list[dict[str, Any]]:
        """The DICOM JSON array at `path`; `what` names the request in errors (no UIDs)."""
        return self._get(path, query, what)[0]

    def paged(self, path: str, query: dict[str, str | int], what: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            query = {**query, "limit": self.page_size, "offset": offset}
            page, more = self._get(path, query, what)
            yield from page
            offset += len(page)
            if not page or (len(page) < self.page_size and not more):
                return

    def _get(
        self, path: str, query: dict[str, str | int], what: str
    ) -> tuple[list[dict[str, Any]], bool]:
        """The array, and whether the server said it capped it (PS3.18: a `Warning` header
        "299 ...: There are additional results that can be requested")."""
        reply = self._send(self.root + path + _query_string(query), what)
        more = "additional results" in reply.headers.get("Warning", "").lower()
        if reply.status_code == 204:
            return [], more
        try:
            body = reply.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _HttpError(f"{what}: the answer is not JSON", reply.status_code) from None
        if not isinstance(body, list) or not all(isinstance(o, dict) for o in body):
            raise _HttpError(f"{what}: the answer is not a DICOM JSON array", reply.status_code)
        return body, more

    def _send(self, url: str, what: str) -> httpx.Response:
        try:
            reply = self.http.get(url)
        except httpx.TimeoutException:
            raise RetriableHarvestError(
                f"{what}: the DICOMweb server at {self.root} did not answer within "
                f"{self.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise FatalHarvestError(
                f"cannot reach the DICOMweb server at {self.root}: {transport_reason(exc)}"
            ) from None
        status = reply.status_code
        if status in (401, 403):
            raise FatalHarvestError(
                f"authentication failed at the DICOMweb server {self.root} (HTTP {status}): "
                "check username/password or token"
            )
        if status in _RETRY_LATER:
            raise RetriableHarvestError(f"{what}: the DICOMweb server answered HTTP {status}")
        if status >= 300:
            raise _HttpError(f"{what}: the DICOMweb server answered HTTP {status}", status)
        return reply


def _query_string(query: dict[str, str | int]) -> str:
    for value in query.values():
        if not _SAFE.fullmatch(str(value)):  # nothing that would need (Orthanc-unsafe) quoting
            raise ValueError("QIDO-RS query values must be plain keywords, numbers and dates")
    return "?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else ""


def decode(obj: dict[str, Any], keep: frozenset[str]) -> Dataset:
    """A Dataset of the `keep` attributes (hex tags) of a DICOM JSON object: nothing else is
    decoded, bulk data is never fetched. Raises ValueError, TypeError or KeyError on malformed
    JSON, with messages that may quote values: never show them."""
    wanted = {
        tag: value
        for tag, value in obj.items()
        if tag.upper() in keep and not (isinstance(value, dict) and "BulkDataURI" in value)
    }
    with quiet_pydicom():  # (a bulk data handler would cost an inspect.signature per element)
        return Dataset.from_json(wanted)


_MALFORMED = (ValueError, TypeError, KeyError, AttributeError)


class DicomWebHarvester(Harvester[DicomWebConfig]):
    name = "dicomweb"
    Config = DicomWebConfig

    def check_connection(self) -> None:
        qido = Qido(self.config)
        try:
            qido.get("/studies", {"limit": 1, "includefield": "StudyDate"}, "study listing")
        except _HttpError as exc:
            hint = " (is url the DICOMweb root?)" if exc.status in (400, 404, 405) else ""
            raise FatalHarvestError(
                f"no QIDO-RS service at {self.config.url}/studies: {exc.message}{hint}"
            ) from None
        finally:
            qido.close()

    def iter_records(self, since: Cursor | None) -> Iterator[Item]:
        walk = _Walk(Edge(self.config, self.context, self.config.templates()), self.config)
        try:
            yield walk.edge.collection_record(self.config.url)
            yield from walk_studies(
                walk.studies,
                walk.harvest,
                since=since,
                window_days=self.config.window_days,
                window_studies=self.config.window_studies,
                today=dt.date.today(),
            )
        finally:
            walk.close()


@dataclass
class _Series:
    """What the server said about one series: its QIDO answer and, when fetched, the metadata
    of its instances; or why it cannot be used."""

    answer: dict[str, Any]
    instances: list[dict[str, Any]] | None = None
    error: str | None = None


@dataclass
class _Study:
    ref: StudyRef
    cursor: Cursor
    series: list[_Series] = field(default_factory=list)
    error: str | None = None


class _Walk:
    """One run. Requests for the next studies of a window go out on `concurrency` threads while
    this one decodes and de-identifies (the server's time and ours overlap); records still come
    out in the window's order. Only this thread touches the report."""

    def __init__(self, edge: Edge, config: DicomWebConfig) -> None:
        self.edge, self.mode, self.depth = edge, config.metadata, config.concurrency
        self.qido = Qido(config)
        self.pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="dicomweb")
        self.study_keep = frozenset(f"{tag:08X}" for tag in edge.fields.study_keep)
        self.series_keep = frozenset(f"{tag:08X}" for tag in edge.fields.series_keep)
        self.study_fields = ",".join(f"{tag:08X}" for tag in edge.fields.study)
        self.series_fields = ",".join(f"{tag:08X}" for tag in edge.fields.series)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.qido.close()

    def studies(
        self, dates: str | None, *, lean: bool = False, uid: str | None = None
    ) -> Iterator[StudyRef]:
        query: dict[str, str | int] = {} if lean else {"includefield": self.study_fields}
        if dates is not None:
            query["StudyDate"] = dates
        if uid is not None:
            query["StudyInstanceUID"] = uid
        what = f"study listing (StudyDate {dates or 'any'})"
        try:
            for obj in self.qido.paged("/studies", query, what):
                found = _first(obj, "0020000D")
                if not is_uid(found):
                    self.edge.report.failure(what, "a study without a valid StudyInstanceUID")
                    continue
                date, time = parse_da(_first(obj, "00080020")), str(_first(obj, "00080030"))
                yield StudyRef(found, date, time, obj)
        except _HttpError as exc:  # without the listing there is no window to walk
            raise RetriableHarvestError(exc.message) from None

    def harvest(self, batch: list[tuple[StudyRef, Cursor]]) -> Iterator[Item]:
        pending: deque[Future[_Study]] = deque()
        for ref, cursor in batch:
            pending.append(self.pool.submit(self._fetch, ref, cursor))
            if len(pending) > self.depth:
                yield from self._records(pending.popleft().result())
        while pending:
            yield from self._records(pending.popleft().result())

    def _fetch(self, ref: StudyRef, cursor: Cursor) -> _Study:
        """The series of a study and, where needed, their metadata (on a worker thread)."""
        study = _Study(ref, cursor)
        query: dict[str, str | int] = {"includefield": self.series_fields}
        try:
            answers = list(self.qido.paged(f"/studies/{ref.uid}/series", query, "series"))
        except SkippableHarvestError as exc:
            study.error = exc.message
            return study
        for answer in answers:
            series = _Series(answer)
            try:
                series.instances = self._instances(ref.uid, answer)
            except SkippableHarvestError as exc:
                series.error = exc.message
            study.series.append(series)
        return study

    def _instances(self, study_uid: str, answer: dict[str, Any]) -> list[dict[str, Any]] | None:
        """Instance metadata, when `metadata` asks for it (see the module's docstring)."""
        series_uid = _first(answer, "0020000E")
        if (self.mode == "auto" and _SOP_CLASS_UID in answer) or not is_uid(series_uid):
            return None
        base = f"/studies/{study_uid}/series/{series_uid}"
        if self.mode == "all":
            found = self.qido.get(base + "/metadata", {}, "series metadata")
        else:
            first = self.qido.get(base + "/instances", {"limit": 1}, "instance listing")
            instance_uid = _first(first[0], "00080018") if first else None
            if not is_uid(instance_uid):
                raise SkippableHarvestError("no instance with a valid SOPInstanceUID")
            found = self.qido.get(f"{base}/instances/{instance_uid}/metadata", {}, "metadata")
        if not found:
            raise SkippableHarvestError("the series metadata is empty")
        return found

    def _records(self, study: _Study) -> Iterator[Item]:
        uid = study.ref.uid
        if study.error is not None:
            self.edge.study_failed(uid, study.error)
            return
        try:
            parent = decode(study.ref.data, self.study_keep)
        except _MALFORMED:
            self.edge.study_failed(uid, "malformed DICOM JSON in the study answer")
            return
        for series in study.series:
            series_uid = _first(series.answer, "0020000E")
            if not is_uid(series_uid):
                self.edge.study_failed(uid, "a series without a valid SeriesInstanceUID")
            elif series.error is not None:
                self.edge.series_failed(series_uid, series.error)
            else:
                yield from self._series(parent, series, uid, series_uid, study.cursor)

    def _series(
        self, study: Dataset, series: _Series, study_uid: str, series_uid: str, cursor: Cursor
    ) -> list[Record]:
        try:
            answer = decode(series.answer, self.series_keep)
            instances = [decode(obj, self.series_keep) for obj in series.instances or ()]
        except _MALFORMED:
            self.edge.series_failed(series_uid, "malformed DICOM JSON in the series answer")
            return []
        if instances:
            datasets = [merged(instance, answer, study) for instance in instances]
        else:  # the QIDO answer is the series' header
            datasets = [merged(answer, study)]
        return self.edge.records(
            datasets, study_uid=study_uid, series_uid=series_uid, cursor=cursor
        )


def _first(obj: dict[str, Any], tag: str) -> Any:
    """The first value of a DICOM JSON attribute, or "" (without decoding the whole object)."""
    element = obj.get(tag)
    values = element.get("Value") if isinstance(element, dict) else None
    return values[0] if isinstance(values, list) and values else ""
