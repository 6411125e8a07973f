"""DataCite's REST API (`/dois`, JSON:API) as a DOI provider.

Production is `https://api.datacite.org`, the test system `https://api.test.datacite.org`; a
repository authenticates with its id and password (HTTP basic). State changes are `event`s on
a PUT: `publish` (→ findable), `register` (→ registered), `hide` (findable → registered).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from catalogue.errors import ErrorDetail
from catalogue.publishing.providers import (
    DoiCredentialsError,
    DoiNotFoundError,
    DoiProviderError,
    DoiRecord,
    DoiRejectedError,
    DoiUnavailableError,
    RemoteState,
)

JSON_API = "application/vnd.api+json"
PRODUCTION_URL = "https://api.datacite.org"
TEST_URL = "https://api.test.datacite.org"


class DataCiteProvider:
    name = "datacite"

    def __init__(
        self,
        url: str,
        repository_id: str,
        password: str,
        prefix: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.prefix = prefix
        self._http = httpx.Client(
            base_url=url.rstrip("/"),
            auth=(repository_id, password),
            timeout=timeout,
            headers={"Accept": JSON_API, "Content-Type": JSON_API},
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    # -- the interface ---------------------------------------------------------------------------
    def reserve(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        body = _body({**attributes, "doi": doi})
        try:
            return _record(self._call("POST", "/dois", body))
        except DoiRejectedError as exc:
            # a retry after a lost answer: the draft is there already, so update it instead
            if any(d.location == "doi" and "taken" in d.message for d in exc.details):
                return self.update(doi, attributes)
            raise

    def update(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        return _record(self._call("PUT", _path(doi), _body(attributes)))

    def register(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        return _record(self._call("PUT", _path(doi), _body({**attributes, "event": "register"})))

    def publish(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        return _record(self._call("PUT", _path(doi), _body({**attributes, "event": "publish"})))

    def hide(self, doi: str) -> DoiRecord:
        return _record(self._call("PUT", _path(doi), _body({"event": "hide"})))

    def delete(self, doi: str) -> None:
        self._call("DELETE", _path(doi), None)

    def get(self, doi: str) -> DoiRecord:
        return _record(self._call("GET", _path(doi), None))

    # -- HTTP ------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise DoiUnavailableError(
                f"DataCite did not answer {method} {path}: {type(exc).__name__}"
            ) from None
        if response.status_code == 204:
            return {}
        if response.is_success:
            try:
                answer = response.json()
            except ValueError:
                raise DoiUnavailableError(
                    f"DataCite sent a body that is not JSON ({path})"
                ) from None
            if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
                raise DoiUnavailableError(f"DataCite sent no JSON:API `data` ({path})")
            return answer
        raise _error(response, f"{method} {path}")


def _path(doi: str) -> str:
    return "/dois/" + doi


def _body(attributes: Mapping[str, Any]) -> dict[str, Any]:
    return {"data": {"type": "dois", "attributes": dict(attributes)}}


def _record(answer: dict[str, Any]) -> DoiRecord:
    data = answer.get("data") or {}
    attributes = data.get("attributes") or {}
    try:
        state = RemoteState(attributes.get("state", "draft"))
    except ValueError:
        raise DoiUnavailableError(
            f"DataCite answered an unknown state for {data.get('id')}"
        ) from None
    return DoiRecord(
        str(attributes.get("doi") or data.get("id")), state, attributes.get("url"), True
    )


def _error(response: httpx.Response, what: str) -> DoiProviderError:
    status = response.status_code
    details = _details(response)
    if status == 401:
        return DoiCredentialsError(f"DataCite refused the credentials ({what})", details, status)
    if status == 403:
        return DoiCredentialsError(f"DataCite forbids {what} to this repository", details, status)
    if status == 404:
        return DoiNotFoundError(f"DataCite has no such DOI ({what})", details, status)
    if status == 429 or status >= 500:
        return DoiUnavailableError(f"DataCite answered {status} to {what}", details, status)
    return DoiRejectedError(f"DataCite rejected {what} ({status})", details, status)


def _details(response: httpx.Response) -> list[ErrorDetail]:
    """JSON:API `errors`: `title` (or `detail`), located by `source` (an attribute name, or a
    `{"pointer": ...}` object)."""
    try:
        errors = response.json().get("errors")
    except (ValueError, AttributeError):
        return []
    found = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        message = str(error.get("title") or error.get("detail") or "error")[:500]
        source = error.get("source")
        if isinstance(source, dict):
            source = source.get("pointer") or source.get("parameter")
        found.append(ErrorDetail(message, str(source)[:200] if source else None))
    return found
