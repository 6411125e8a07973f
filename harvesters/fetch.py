"""HTTP for harvesters of partner catalogues: bounded bodies, retries, and the error tree.

A request that times out, is cut short, or is answered 5xx / 429 is retried `retries` times with
a doubling wait; a `Retry-After` header (seconds or an HTTP date) sets the wait, capped at
`max_wait_s`. What still fails is a `RetriableHarvestError` (the run stops; its bookmark stays),
except a source that cannot be reached at all or refuses our credentials: `FatalHarvestError`.
An HTML page answered with 200 (a login page, a proxy's error page) is never taken for data.
`get` judges the answer so; `send` leaves any status but a retried one to its caller (XNAT).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import Field, field_validator

from catalogue.errors import FatalHarvestError, RetriableHarvestError
from harvesters.base import HarvesterConfig

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    timeout_s: float = 30.0
    retries: int = 3
    retry_wait_s: float = 1.0  # the first wait; it doubles
    max_wait_s: float = 120.0  # the longest wait a Retry-After may ask for
    max_bytes: int = 64 * 1024 * 1024
    verify_tls: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    retry_status: frozenset[int] = RETRY_STATUS


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class FetchConfig(HarvesterConfig):
    """Config of a harvester that GETs from one http(s) source through a `Fetcher`: a subclass
    says what kind of source it is, what its `url` must be, and the media types it accepts."""

    source_kind: ClassVar[str]  # "DCAT catalogue": begins every error message
    url_means: ClassVar[str]  # "an http(s) address of the catalogue": for a wrong `url`
    accept: ClassVar[str]  # the Accept header
    retry_status: ClassVar[frozenset[int]] = RETRY_STATUS

    url: str = Field(description="address of the source")
    timeout_s: float = Field(60.0, gt=0, description="per-request timeout in seconds")
    retries: int = Field(3, ge=0, le=10, description="retries of a request that failed")
    retry_wait_s: float = Field(2.0, ge=0, description="first wait before a retry (doubles)")
    max_retry_wait_s: float = Field(
        300.0, ge=0, description="longest wait a `Retry-After` header may ask for"
    )
    verify_tls: bool = Field(True, description="check the server's TLS certificate")

    @field_validator("url")
    @classmethod
    def _check_http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be {cls.url_means}")
        return url

    def fetcher(self) -> Fetcher:
        policy = FetchPolicy(
            timeout_s=self.timeout_s,
            retries=self.retries,
            retry_wait_s=self.retry_wait_s,
            max_wait_s=self.max_retry_wait_s,
            verify_tls=self.verify_tls,
            headers={"Accept": self.accept},
            retry_status=self.retry_status,
        )
        return Fetcher(f"{self.source_kind} {self.url}", policy)


class _Retry(Exception):
    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.wait_s = reason, wait_s


class Fetcher:
    """GETs from one source; `name` says which in every error message."""

    def __init__(
        self,
        name: str,
        policy: FetchPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name, self.policy, self.sleep = name, policy, sleep
        self.http = httpx.Client(
            timeout=policy.timeout_s,
            verify=policy.verify_tls,
            headers=dict(policy.headers),
            follow_redirects=True,
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: Mapping[str, str] | None = None) -> Fetched:
        """The body at `url`, after retries; HTML pages and non-2xx answers raise."""
        fetched = self.send("GET", url, params)
        _check_status(self.name, fetched)
        if _looks_like_html(fetched.body) or (
            fetched.content_type in ("text/html", "application/xhtml+xml")
            and not fetched.body.lstrip().startswith(b"<?xml")
        ):
            raise RetriableHarvestError(
                f"{self.name}: {url} answered an HTML page, not data "
                "(a login page or a proxy's error page?)"
            )
        return fetched

    def send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None = None,
        *,
        auth: httpx.Auth | None = None,
        what: str = "",
    ) -> Fetched:
        """The answer to one request, repeated while it times out, is cut short or has a retried
        status; any other status is the caller's to judge. `what` names the request in errors."""
        wait = self.policy.retry_wait_s
        for attempt in range(self.policy.retries + 1):
            try:
                return self._once(method, url, params, auth)
            except _Retry as retry:
                if attempt == self.policy.retries:
                    about = f" ({what})" if what else ""
                    raise RetriableHarvestError(
                        f"{self.name}{about}: {retry.reason} {attempt + 1} times in a row"
                    ) from None
                asked = retry.wait_s if retry.wait_s is not None else wait
                self.sleep(min(asked, self.policy.max_wait_s))
                wait *= 2
        raise AssertionError("unreachable")

    def _once(
        self,
        method: str,
        url: str,
        params: Mapping[str, str | int] | None,
        auth: httpx.Auth | None,
    ) -> Fetched:
        try:
            with self.http.stream(method, url, params=params, auth=auth) as reply:
                status = reply.status_code
                if status in self.policy.retry_status:
                    raise _Retry(f"HTTP {status}", _retry_after(reply.headers.get("retry-after")))
                body = self._read(reply)
        except httpx.TimeoutException:
            raise _Retry(f"did not answer within {self.policy.timeout_s:g} s") from None
        except (httpx.RemoteProtocolError, httpx.ReadError):
            raise _Retry("the answer was cut short") from None
        except httpx.HTTPError as exc:
            raise FatalHarvestError(f"cannot reach {self.name}: {transport_reason(exc)}") from None
        content_type = reply.headers.get("content-type", "").split(";")[0].strip().lower()
        return Fetched(str(reply.url), status, content_type, body)

    def _read(self, reply: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in reply.iter_bytes(_CHUNK):
            size += len(chunk)
            if size > self.policy.max_bytes:
                raise RetriableHarvestError(
                    f"{self.name}: the answer is larger than {self.policy.max_bytes} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _check_status(name: str, fetched: Fetched) -> None:
    status = fetched.status
    if status in (401, 403):
        raise FatalHarvestError(
            f"{name}: access refused (HTTP {status}): check the source's credentials"
        )
    if status >= 300:
        raise FatalHarvestError(f"{name}: {fetched.url} answered HTTP {status}")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def transport_reason(exc: httpx.HTTPError) -> str:
    """What went wrong below HTTP, in words safe to show (no URL, no payload)."""
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name" in text and ("resolution" in text or "not known" in text):
        return "host name not found"
    if "certificate" in text or "ssl" in text:
        return "TLS error (certificate not trusted?)"
    return f"transport error ({type(exc).__name__})"
