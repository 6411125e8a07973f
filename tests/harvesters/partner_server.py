"""A small HTTP server on loopback for the partner-catalogue harvesters (OAI-PMH, DCAT).

Real HTTP: a `ThreadingHTTPServer` on 127.0.0.1 answers each request with the `Reply` its route
returns, and can misbehave as real servers do: answer late (a timeout), send fewer bytes than its
Content-Length (a truncated answer), answer 5xx with Retry-After, or an HTML page with 200.
`faults` replaces the answer to given request numbers (1-based), to break a listing mid-way.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LOGIN_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
    b"<body><form method='post'><input name='user'><input name='password' type='password'>"
    b"</form></body></html>"
)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait before answering (longer than the client's timeout: a timeout)
    truncate_to: int | None = None  # send only this many bytes, after the full Content-Length


Route = Callable[[str, dict[str, str]], Reply]


@dataclass
class PartnerServer:
    route: Route
    faults: dict[int, Reply] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, params: dict[str, str]) -> Reply:
        self.requests.append((path, params))
        fault = self.faults.get(len(self.requests))
        return fault if fault is not None else self.route(path, params)


def _handler(server: PartnerServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            reply = server.answer(parts.path, dict(parse_qsl(parts.query)))
            time.sleep(reply.delay_s)
            body = reply.body
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.truncate_to is not None:
                self.send_header("Connection", "close")
                body = body[: reply.truncate_to]
                self.close_connection = True
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client gave up
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(route: Route, faults: dict[int, Reply] | None = None) -> Iterator[PartnerServer]:
    server = PartnerServer(route, faults or {})
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    http.daemon_threads = True
    server.url = f"http://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)


def serve_for_test(request: Any, route: Route) -> PartnerServer:
    """A server for one test (a pytest `request`); it stops when the test finishes."""
    context = serving(route)
    server = context.__enter__()
    request.addfinalizer(lambda: context.__exit__(None, None, None))
    return server


def closed_url() -> str:
    """The address of a server that has just stopped: connections to it are refused."""
    with serving(lambda _path, _params: Reply()) as server:
        return server.url
