"""A contract server for XNAT's REST API, on loopback, serving a `Site` (see `xnat_site`): the
tests' XNAT and the demo's (no XNAT server can be installed here).

It follows XNAT 1.7/1.8 as documented (REST API and XAPI pages) and as the recorded responses
show, for the paths a metadata harvester reads:

| request | answer |
|---|---|
| `POST /data/JSESSION` (basic auth: user or alias token) | session id, `JSESSIONID` cookie; 401 |
| `DELETE /data/JSESSION` | ends the session |
| `GET /data/projects?format=json` | `ResultSet` of projects |
| `GET /data/projects/{p}/accessibility` | `public`, `protected` or `private` as text |
| `GET /data/projects/{p}/subjects?format=json&columns=...` | `ResultSet` of subjects |
| `GET /data/projects/{p}/experiments?format=json&columns=...` | `ResultSet` of experiments |
| `GET /data/archive/projects/{p}/subjects[/{s}/experiments]` | the recorded bytes |
| `GET /data/experiments/{e}/scans?format=json` | `ResultSet` of scans (default columns) |
| `GET /data/experiments/{e}/scans/{id}` | the scan as an item (`items`: `meta`, `data_fields`) |
| `GET /data/experiments/{e}?format=xml` | the experiment document |

Quirks: numbers as strings; `totalRecords` as a string, and absent from paged answers;
`paging`: `offset` honours limit/offset, `none` ignores both (whole listing), `limit` honours
limit and ignores offset (the first page again). Unauthenticated requests get 401 or, with
`login_page=True`, XNAT's HTML login page with status 200; a session can be made to expire after
`session_requests` requests. `faults` script answers for a path (optionally `path?offset=N`):
an HTTP status, the login page, a delay (timeout), a truncated JSON body.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from api.demo.xnat_site import Row, Site

LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>XNAT</title></head><body>"
    b'<form name="form1" method="post" action="/login"><input name="username"/>'
    b'<input type="password" name="password"/></form></body></html>'
)
USERS = {"harvester": "harvester-password", "8f14e45f-alias": "token-secret-of-the-alias"}


@dataclass(frozen=True)
class Fault:
    kind: Literal["status", "login_page", "delay", "truncated"]
    status: int = 500
    seconds: float = 0.0


@dataclass
class Options:
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))
    anonymous: bool = False
    login_page: bool = False
    paging: Literal["offset", "none", "limit"] = "offset"
    session_requests: int | None = None
    faults: dict[str, deque[Fault]] = field(default_factory=dict)


@dataclass
class Served:
    """What the server saw: for tests that check how the client behaved."""

    requests: list[str] = field(default_factory=list)
    logins: int = 0
    logouts: int = 0


class XnatServer:
    def __init__(self, site: Site, options: Options | None = None, port: int = 0) -> None:
        self.site = site
        self.options = options or Options()
        self.served = Served()
        self.sessions: dict[str, int] = {}  # id -> requests left (or -1)
        self.lock = threading.Lock()
        server = self

        class Handler(_Handler):
            xnat = server

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def fault(self, path: str, *faults: Fault) -> None:
        self.options.faults.setdefault(path, deque()).extend(faults)

    @contextmanager
    def running(self) -> Iterator[XnatServer]:
        thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()
            thread.join()


class _Handler(BaseHTTPRequestHandler):
    xnat: XnatServer
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # header and body in one write, flushed per answer (no Nagle stalls)
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/data/JSESSION":
            return self._send(404, b"not found", "text/plain")
        if not self._basic_ok():
            return self._send(401, b"<html>401 Unauthorized</html>", "text/html")
        session = secrets.token_hex(16).upper()
        with self.xnat.lock:
            self.xnat.sessions[session] = self.xnat.options.session_requests or -1
            self.xnat.served.logins += 1
        self._send(200, session.encode(), "text/plain", cookie=session)

    def do_DELETE(self) -> None:
        with self.xnat.lock:
            self.xnat.sessions.pop(self._cookie() or "", None)
            self.xnat.served.logouts += 1
        self._send(200, b"", "text/plain")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.xnat.lock:
            self.xnat.served.requests.append(self.path)
        if not self._authorised():
            if self.xnat.options.login_page:
                return self._send(200, LOGIN_PAGE, "text/html;charset=UTF-8")
            return self._send(401, b"<html>401 Unauthorized</html>", "text/html")
        fault = self._fault(parts.path, query)
        if fault is not None:
            return self._faulty(fault)
        self._route(parts.path, query)

    def _route(self, path: str, query: dict[str, str]) -> None:
        site = self.xnat.site
        if (raw := site.raw(path)) is not None:
            return self._send(200, raw, "application/json")
        if path == "/data/projects":
            return self._rows(site.projects(), query)
        match = re.fullmatch(r"/data/projects/([^/]+)/(accessibility|subjects|experiments)", path)
        if match:
            project, what = match.groups()
            if what == "accessibility":
                found = site.accessibility(project)
                return self._text(found)
            return self._rows(getattr(site, what)(project), query)
        match = re.fullmatch(r"/data/experiments/([^/]+)/scans/([^/]+)", path)
        if match:
            return self._scan(*match.groups())
        match = re.fullmatch(r"/data/experiments/([^/]+)(/scans)?", path)
        if match:
            experiment, scans = match.groups()
            if scans:
                return self._rows(site.scans(experiment), {})
            document = site.document(experiment)
            if document is not None and query.get("format") == "xml":
                return self._send(200, document, "text/xml")
        self._send(404, b"<html>Not Found</html>", "text/html")

    def _rows(self, rows: list[Row] | None, query: dict[str, str]) -> None:
        if rows is None:
            return self._send(404, b"<html>Not Found</html>", "text/html")
        result_set: dict[str, Any] = {"Result": rows, "totalRecords": str(len(rows))}
        paging = self.xnat.options.paging
        if "limit" in query and paging != "none":
            limit = int(query["limit"])
            offset = int(query.get("offset", 0)) if paging == "offset" else 0
            result_set = {"Result": rows[offset : offset + limit]}  # no totalRecords
        self._send(200, json.dumps({"ResultSet": result_set}).encode(), "application/json")

    def _scan(self, experiment: str, scan_id: str) -> None:
        """One scan, as XNAT's JSON for an item (`items`: its type and fields): the address
        the harvested series give as their access URL."""
        found = [r for r in self.xnat.site.scans(experiment) or [] if str(r["ID"]) == scan_id]
        if not found:
            return self._send(404, b"<html>Not Found</html>", "text/html")
        item = {"meta": {"xsi:type": found[0].get("xsiType", "")}, "data_fields": found[0]}
        self._send(200, json.dumps({"items": [item]}).encode(), "application/json")

    def _text(self, value: str | None) -> None:
        if value is None:
            return self._send(404, b"<html>Not Found</html>", "text/html")
        self._send(200, value.encode(), "text/plain")

    def _fault(self, path: str, query: dict[str, str]) -> Fault | None:
        faults = self.xnat.options.faults
        with self.xnat.lock:
            for key in (f"{path}?offset={query.get('offset', '0')}", path):
                if faults.get(key):
                    return faults[key].popleft()
        return None

    def _faulty(self, fault: Fault) -> None:
        if fault.kind == "status":
            return self._send(fault.status, b"<html>Internal Server Error</html>", "text/html")
        if fault.kind == "login_page":
            return self._send(200, LOGIN_PAGE, "text/html;charset=UTF-8")
        if fault.kind == "delay":
            time.sleep(fault.seconds)
            return self._send(503, b"late", "text/plain")
        self._send(200, b'{"ResultSet": {"Result": [{"ID": "trunc', "application/json")

    def _authorised(self) -> bool:
        if self.xnat.options.anonymous or self._basic_ok():
            return True
        session = self._cookie()
        with self.xnat.lock:
            left = self.xnat.sessions.get(session or "")
            if left is None or left == 0:
                return False
            if left > 0:
                self.xnat.sessions[session or ""] = left - 1
        return True

    def _basic_ok(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return self.xnat.options.users.get(user) == password

    def _cookie(self) -> str | None:
        found = re.search(r"JSESSIONID=([0-9A-Fa-f]+)", self.headers.get("Cookie", ""))
        return found.group(1) if found else None

    def _send(self, status: int, body: bytes, kind: str, cookie: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        if cookie is not None:
            self.send_header("Set-Cookie", f"JSESSIONID={cookie}; Path=/; HttpOnly")
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    """Serve a generated site until killed (for the benchmark): prints the URL first."""
    import argparse

    from api.demo.xnat_site import GeneratedSite

    parser = argparse.ArgumentParser(description="an XNAT contract server on loopback")
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--scans", type=int, default=200_000)
    args = parser.parse_args()
    server = XnatServer(GeneratedSite(args.projects, args.sessions, args.scans))
    print(server.url, flush=True)
    server.httpd.serve_forever()


if __name__ == "__main__":
    main()
