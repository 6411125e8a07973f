"""OAI-PMH 2.0 requests: verbs, arguments, datestamps, errors and stateless resumption tokens.

A resumption token carries the whole request and the last identifier sent (keyset pagination),
so the provider keeps no state between pages and a harvest of any size costs the same per page.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
METADATA_PREFIXES = ("oai_dc", "oai_datacite")

#: required and optional arguments of each verb (resumptionToken is exclusive)
VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
    "ListRecords": (
        frozenset({"metadataPrefix"}),
        frozenset({"from", "until", "set", "resumptionToken"}),
    ),
}


class OaiError(Exception):
    """A protocol error: answered with HTTP 200 and `<error code=...>`, as the protocol says."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ListRequest:
    """A ListIdentifiers/ListRecords request, first page or resumed."""

    prefix: str
    from_: datetime | None = None
    until: datetime | None = None
    set_spec: str | None = None
    after: uuid.UUID | None = None  # the last identifier already sent
    cursor: int = 0
    total: int | None = None  # completeListSize, counted on the first page

    def next_page(self, last: uuid.UUID, sent: int, total: int) -> ListRequest:
        return replace(self, after=last, cursor=self.cursor + sent, total=total)


def parse_arguments(query: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments; `badVerb` or `badArgument` when they are not legal."""
    counts: dict[str, int] = {}
    for key, _ in query:
        counts[key] = counts.get(key, 0) + 1
    args = dict(query)
    verb = args.pop("verb", None)
    if counts.get("verb", 0) > 1:
        raise OaiError("badVerb", "the verb argument is repeated")
    if verb is None or verb not in VERBS:
        raise OaiError("badVerb", "missing or illegal verb")
    repeated = sorted(k for k, n in counts.items() if n > 1)
    if repeated:
        raise OaiError("badArgument", f"repeated argument: {', '.join(repeated)}")
    required, optional = VERBS[verb]
    illegal = sorted(set(args) - required - optional)
    if illegal:
        raise OaiError("badArgument", f"illegal argument: {', '.join(illegal)}")
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return verb, args
    missing = sorted(required - set(args))
    if missing:
        raise OaiError("badArgument", f"missing argument: {', '.join(missing)}")
    return verb, args


def list_request(args: Mapping[str, str]) -> ListRequest:
    """A first-page request from its arguments, or the resumed one from its token."""
    if "resumptionToken" in args:
        return decode_token(args["resumptionToken"])
    prefix = args["metadataPrefix"]
    check_prefix(prefix)
    from_ = parse_datestamp(args["from"], end=False) if "from" in args else None
    until = parse_datestamp(args["until"], end=True) if "until" in args else None
    if "from" in args and "until" in args and len(args["from"]) != len(args["until"]):
        raise OaiError("badArgument", "from and until have different granularities")
    if from_ and until and from_ > until:
        raise OaiError("badArgument", "from is later than until")
    return ListRequest(prefix=prefix, from_=from_, until=until, set_spec=args.get("set"))


def check_prefix(prefix: str) -> None:
    if prefix not in METADATA_PREFIXES:
        raise OaiError("cannotDisseminateFormat", f"unsupported metadataPrefix {prefix!r}")


def parse_datestamp(value: str, *, end: bool) -> datetime:
    """`YYYY-MM-DD` (a whole day: `until` includes it) or `YYYY-MM-DDThh:mm:ssZ`, in UTC."""
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1, microseconds=-1) if end else day
        stamp = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return stamp + timedelta(seconds=1, microseconds=-1) if end else stamp
    except ValueError:
        raise OaiError("badArgument", f"illegal datestamp {value!r}") from None


def datestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_token(request: ListRequest) -> str:
    body = {
        "m": request.prefix,
        "f": request.from_.isoformat() if request.from_ else None,
        "u": request.until.isoformat() if request.until else None,
        "s": request.set_spec,
        "a": request.after.hex if request.after else None,
        "c": request.cursor,
        "t": request.total,
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> ListRequest:
    """The request a token stands for; `badResumptionToken` for anything we did not issue."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
        request = ListRequest(
            prefix=str(body["m"]),
            from_=datetime.fromisoformat(body["f"]) if body["f"] else None,
            until=datetime.fromisoformat(body["u"]) if body["u"] else None,
            set_spec=body["s"] if body["s"] is None else str(body["s"]),
            after=uuid.UUID(hex=body["a"]),
            cursor=int(body["c"]),
            total=None if body["t"] is None else int(body["t"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise OaiError("badResumptionToken", "the resumption token is invalid") from None
    if request.prefix not in METADATA_PREFIXES or request.cursor < 0:
        raise OaiError("badResumptionToken", "the resumption token is invalid")
    return request
