"""An XNAT REST client that maps every failure onto the harvest error tree.

Authentication: with credentials (a user and password, or an alias token's alias and secret,
which XNAT accepts in the same places) it opens a session with `POST /data/JSESSION` and sends
the JSESSIONID cookie from then on; without, requests go out anonymous (a guest-readable site).
A session that expires mid-run shows as a 401 or, behind many deployments, as the HTML login
page with status 200: the client logs in again once and repeats the request.

Transport is the harvesters' shared `Fetcher`: timeouts, answers cut short and 408/425/429/502/
503/504 are retried `retries` times (as `Retry-After` asks), then raised as retriable (the run
stops, its bookmark stays); a server that cannot be reached is fatal. 401/403 on login or on the
site-wide listing, and an HTML page where JSON was asked for, are fatal (credentials). Anything
else about one request (a 500, a 404, malformed JSON) is `RequestFailed`, skippable: the caller
reports the record or page and goes on. Messages name the request, never the URL's labels.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx

from catalogue.errors import FatalHarvestError, SkippableHarvestError
from harvesters.fetch import Fetched, Fetcher

Row = dict[str, Any]


class RequestFailed(SkippableHarvestError):
    """One request failed in a way that concerns only what it was for."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class Credentials:
    def __init__(self, user: str, secret: str) -> None:
        self.user, self.secret = user, secret


class XnatClient:
    def __init__(self, url: str, credentials: Credentials | None, fetcher: Fetcher) -> None:
        self.url = url
        self.credentials = credentials
        self.fetcher = fetcher
        self._session: str | None = None
        self._logins = 0  # sessions opened: a thread whose session expired logs in only if
        self._login_lock = threading.Lock()  # no other thread did since it sent its request

    def login(self) -> None:
        """Open a session (no-op without credentials); bad credentials are fatal."""
        if self.credentials is None:
            return
        auth = httpx.BasicAuth(self.credentials.user, self.credentials.secret)
        reply = self._send("POST", "/data/JSESSION", None, "login", auth=auth)
        if reply.status in (401, 403):
            raise FatalHarvestError(
                f"XNAT at {self.url} refused the credentials (HTTP {reply.status}): "
                "check username/password or the alias token"
            )
        session = reply.text.strip()
        if reply.status != 200 or _looks_like_html(reply) or not session.isalnum():
            raise FatalHarvestError(
                f"XNAT at {self.url} did not open a session (HTTP {reply.status}): "
                "is url the XNAT root?"
            )
        self._session = session
        self._logins += 1
        self.fetcher.http.cookies.set("JSESSIONID", session)

    def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(httpx.HTTPError):  # it times out on its own
                self.fetcher.http.delete(f"{self.url}/data/JSESSION")
        self.fetcher.close()

    def rows(
        self, path: str, query: dict[str, str | int], what: str
    ) -> tuple[list[Row], int | None]:
        """The `ResultSet.Result` rows at `path` and `totalRecords` (None when absent)."""
        body = self._json(path, {**query, "format": "json"}, what)
        result_set = body.get("ResultSet") if isinstance(body, dict) else None
        rows = result_set.get("Result") if isinstance(result_set, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise RequestFailed(f"{what}: the answer is not an XNAT ResultSet")
        assert isinstance(result_set, dict)
        return rows, _count(result_set.get("totalRecords"))

    def listing(
        self, path: str, query: dict[str, str | int], what: str, page: int
    ) -> Iterator[Row]:
        """Every row of a listing, `page` at a time with limit/offset (0: one request). A server
        that ignores `limit` (more rows than asked) sent everything; one that ignores `offset`
        (the first page again) is read once more without paging, for the rows after those
        already yielded. `totalRecords` ends paging when present."""
        if page <= 0:
            yield from self.rows(path, query, what)[0]
            return
        offset, first = 0, None
        while True:
            rows, total = self.rows(path, {**query, "limit": page, "offset": offset}, what)
            if offset and rows and rows[0] == first:  # offset ignored: the first page again
                yield from self.rows(path, query, what)[0][offset:]
                return
            first = first if offset else (rows[0] if rows else None)
            yield from rows
            offset += len(rows)
            if len(rows) != page or (total is not None and offset >= total):
                return

    def text(self, path: str, what: str) -> str:
        return self._get(path, {}, what).text

    def xml(self, path: str, what: str) -> bytes:
        return self._get(path, {"format": "xml"}, what).body

    def _json(self, path: str, query: dict[str, str | int], what: str) -> Any:
        reply = self._get(path, query, what)
        try:
            return json.loads(reply.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RequestFailed(f"{what}: the answer is not JSON") from None

    def _get(self, path: str, query: dict[str, str | int], what: str) -> Fetched:
        relogged = False
        while True:
            logins = self._logins
            reply = self._send("GET", path, query, what)
            denied = reply.status == 401 or (reply.status == 200 and _looks_like_html(reply))
            if denied and self.credentials is not None and not relogged:
                relogged = True  # the session expired: log in again, once
                with self._login_lock:
                    if self._logins == logins:
                        self.login()
                continue
            if denied:
                raise FatalHarvestError(
                    f"{what}: XNAT at {self.url} answered "
                    + ("HTTP 401" if reply.status == 401 else "an HTML page (a login page?)")
                    + " instead of data: check the credentials"
                )
            if reply.status >= 300:
                raise RequestFailed(f"{what}: XNAT answered HTTP {reply.status}", reply.status)
            return reply

    def _send(
        self,
        method: str,
        path: str,
        query: dict[str, str | int] | None,
        what: str,
        auth: httpx.Auth | None = None,
    ) -> Fetched:
        return self.fetcher.send(method, f"{self.url}{path}", query, auth=auth, what=what)


def _looks_like_html(reply: Fetched) -> bool:
    """An HTML page (XNAT's login page, a proxy's error page), by its type or, untyped, its
    opening."""
    if reply.content_type:
        return "html" in reply.content_type
    return reply.body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))


def _count(value: object) -> int | None:
    """`totalRecords` arrives as a string, a number or not at all."""
    try:
        return int(str(value))
    except ValueError:
        return None
