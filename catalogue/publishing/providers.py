"""DOI providers: one interface, DataCite's REST API in production, a local one for demos.

A provider speaks DataCite's vocabulary: a DOI is `draft` (reserved: shown, not public),
`registered` (resolvable, not listed in the registrar's search) or `findable`. Metadata is the
DataCite JSON `attributes` object, as stored in `Dataset.meta`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from catalogue.errors import CatalogueError, ErrorDetail


class RemoteState(enum.StrEnum):
    DRAFT = "draft"
    REGISTERED = "registered"
    FINDABLE = "findable"


@dataclass(frozen=True)
class DoiRecord:
    doi: str
    state: RemoteState
    url: str | None
    registered: bool  # False: a demo DOI no registrar knows about


class DoiProviderError(CatalogueError):
    """The provider refused or failed a call. `retriable`: the same call may succeed later."""

    code = "doi_provider_error"
    retriable = False

    def __init__(
        self, message: str, details: Sequence[ErrorDetail] = (), status: int | None = None
    ) -> None:
        super().__init__(message, details)
        self.status = status


class DoiRejectedError(DoiProviderError):
    """The metadata or the transition is invalid (DataCite 422, 405): fix it, then retry."""

    code = "doi_rejected"


class DoiCredentialsError(DoiProviderError):
    """Wrong repository id or password (401), or a DOI or prefix of another repository (403)."""

    code = "doi_credentials"


class DoiNotFoundError(DoiProviderError):
    code = "doi_not_found"


class DoiUnavailableError(DoiProviderError):
    """The provider did not answer, or answered 429 or 5xx: retry later."""

    code = "doi_unavailable"
    retriable = True


class DoiProvider(Protocol):
    name: str
    prefix: str

    def reserve(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        """Create a draft DOI (idempotent: an existing draft of ours is updated)."""
        ...

    def update(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord: ...

    def register(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord: ...

    def publish(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord: ...

    def hide(self, doi: str) -> DoiRecord: ...

    def delete(self, doi: str) -> None:
        """Delete a draft DOI; a registered or findable DOI cannot be deleted."""
        ...


#: What DataCite requires before a DOI leaves the draft state (metadata schema 4, mandatory).
REQUIRED = ("creators", "titles", "publisher", "publicationYear", "types", "url")


def missing_for_registration(attributes: Mapping[str, Any]) -> list[ErrorDetail]:
    """The mandatory properties that are absent or empty, located like DataCite's errors."""
    missing = [
        ErrorDetail(f"{name} is required", name) for name in REQUIRED if not attributes.get(name)
    ]
    types = attributes.get("types") or {}
    if attributes.get("types") and not types.get("resourceTypeGeneral"):
        missing.append(ErrorDetail("resourceTypeGeneral is required", "types"))
    return missing


class LocalProvider:
    """Demo DOIs under a test prefix: nothing is registered anywhere, and every record says so.

    It keeps no state of its own (the dataset holds it) but applies DataCite's rules: metadata
    is checked before registration, and only drafts may be deleted.
    """

    name = "local"

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _record(self, doi: str, state: RemoteState, attributes: Mapping[str, Any]) -> DoiRecord:
        if not doi.startswith(self.prefix + "/"):
            raise DoiCredentialsError(f"{doi} is not under the local prefix {self.prefix}")
        return DoiRecord(doi, state, attributes.get("url"), registered=False)

    def reserve(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        return self._record(doi, RemoteState.DRAFT, attributes)

    def update(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        return self._record(doi, RemoteState.DRAFT, attributes)

    def register(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        _check(attributes)
        return self._record(doi, RemoteState.REGISTERED, attributes)

    def publish(self, doi: str, attributes: Mapping[str, Any]) -> DoiRecord:
        _check(attributes)
        return self._record(doi, RemoteState.FINDABLE, attributes)

    def hide(self, doi: str) -> DoiRecord:
        return self._record(doi, RemoteState.REGISTERED, {})

    def delete(self, doi: str) -> None:
        self._record(doi, RemoteState.DRAFT, {})


def _check(attributes: Mapping[str, Any]) -> None:
    missing = missing_for_registration(attributes)
    if missing:
        raise DoiRejectedError("the metadata is incomplete for registration", missing, 422)
