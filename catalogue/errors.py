"""The one exception tree. Every error a user can meet is a `CatalogueError` with a stable code.

`api/errors.py` maps each branch to an HTTP status and the one JSON error body; the CLI prints
the message. Messages never echo raw header values or secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorDetail:
    """One located problem inside a larger error (a field of a request, a line of a file)."""

    message: str
    location: str | None = None


class CatalogueError(Exception):
    """Root of every error the catalogue raises on purpose."""

    code = "catalogue_error"

    def __init__(self, message: str, details: Sequence[ErrorDetail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)

    def __str__(self) -> str:
        if not self.details:
            return self.message
        lines = [
            self.message,
            *(
                f"  {d.location}: {d.message}" if d.location else f"  {d.message}"
                for d in self.details
            ),
        ]
        return "\n".join(lines)


class ConfigurationError(CatalogueError):
    """Settings or the sources file are wrong; the message says what to fix."""

    code = "configuration_error"


class NotFoundError(CatalogueError):
    code = "not_found"


class PermissionDeniedError(CatalogueError):
    code = "forbidden"


class AuthenticationError(CatalogueError):
    code = "unauthenticated"


class ValidationError(CatalogueError):
    """A request or record is malformed; `details` locate each problem."""

    code = "validation_error"


class ConflictError(CatalogueError):
    code = "conflict"


class StoreUnavailableError(CatalogueError):
    code = "store_unavailable"


class SearchUnavailableError(CatalogueError):
    code = "search_unavailable"


class IdentityProviderUnavailableError(CatalogueError):
    """The OpenID Connect issuer cannot be reached or answers nonsense: sign-in is not possible."""

    code = "identity_provider_unavailable"


class HarvestError(CatalogueError):
    code = "harvest_error"


class FatalHarvestError(HarvestError):
    """The source cannot be harvested at all (unreachable, bad credentials): the run stops."""

    code = "harvest_fatal"


class RetriableHarvestError(HarvestError):
    """A transient failure (timeout, 503): the run stops and its bookmark is not advanced."""

    code = "harvest_retriable"


class SkippableHarvestError(HarvestError):
    """One record is bad: it is reported and the run goes on."""

    code = "harvest_skippable"
