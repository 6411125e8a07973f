"""HTTP for the partner harvesters, against a real server on loopback: how long it waits when a
server says `Retry-After` (seconds or an HTTP date, capped), and what it refuses to take."""

from __future__ import annotations

import contextlib
import email.utils
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalogue.errors import FatalHarvestError, RetriableHarvestError
from harvesters.fetch import Fetcher, FetchPolicy
from harvesters.safexml import UnsafeXmlError, parse
from tests.harvesters.partner_server import Reply, serving

OK = Reply(body=b"<ok/>")


def _fetcher(waits: list[float], **policy: Any) -> Fetcher:
    return Fetcher("test source", FetchPolicy(**policy), sleep=waits.append)


def test_retry_after_in_seconds_is_honoured_and_capped() -> None:
    busy = Reply(status=503, headers={"Retry-After": "7"})
    with serving(lambda _p, _q: OK, {1: busy, 2: busy}) as server:
        waits: list[float] = []
        with _fetcher(waits, max_wait_s=5.0) as fetcher:
            assert fetcher.get(server.url).body == b"<ok/>"
    assert waits == [5.0, 5.0]


def test_retry_after_as_an_http_date() -> None:
    later = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    with serving(lambda _p, _q: OK, {1: Reply(status=503, headers={"Retry-After": later})}) as srv:
        waits: list[float] = []
        with _fetcher(waits) as fetcher:
            fetcher.get(srv.url)
    assert 25 <= waits[0] <= 30


def test_without_retry_after_the_wait_doubles() -> None:
    with serving(lambda _p, _q: Reply(status=502)) as server:
        waits: list[float] = []
        with (
            _fetcher(waits, retry_wait_s=1.0) as fetcher,
            pytest.raises(RetriableHarvestError, match="HTTP 502 4 times in a row"),
        ):
            fetcher.get(server.url)
    assert waits == [1.0, 2.0, 4.0]


def test_client_errors_are_not_retried() -> None:
    for status, words in ((401, "access refused"), (404, "answered HTTP 404")):
        with serving(lambda _p, _q, s=status: Reply(status=s)) as server:
            waits: list[float] = []
            with _fetcher(waits) as fetcher, pytest.raises(FatalHarvestError, match=words):
                fetcher.get(server.url)
            assert waits == [] and len(server.requests) == 1


def test_an_oversized_answer_is_refused() -> None:
    with (
        serving(lambda _p, _q: Reply(body=b"x" * 100_000)) as server,
        _fetcher([], max_bytes=1000) as fetcher,
        pytest.raises(RetriableHarvestError, match="larger than 1000 bytes"),
    ):
        fetcher.get(server.url)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_the_xml_parser_only_ever_refuses_cleanly(document: bytes) -> None:
    with contextlib.suppress(UnsafeXmlError):
        parse(document)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="<>!&;%\"' abcDOCTYPENTIY[]=/?x", max_size=200))
def test_declarations_never_pass(tail: str) -> None:
    document = f'<?xml version="1.0"?><!DOCTYPE r [{tail}]><r/>'.encode()
    with pytest.raises(UnsafeXmlError):
        parse(document)
