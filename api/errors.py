"""The one table from exception to HTTP status, and the one JSON error body:

{"error": {"code": "not_found", "message": "...", "details": [{"location": ..., "message": ...}]}}
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from catalogue import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.CatalogueError], int] = {
    errors.ValidationError: 400,
    errors.AuthenticationError: 401,
    errors.PermissionDeniedError: 403,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.ConfigurationError: 500,
    errors.HarvestError: 502,
    errors.IdentityProviderUnavailableError: 502,
    errors.StoreUnavailableError: 503,
    errors.SearchUnavailableError: 503,
}

# GraphQL errors carry these in `extensions.code` (api/graphql/errors.py applies them).
GRAPHQL_CODES: dict[type[errors.CatalogueError], str] = {
    errors.ValidationError: "BAD_USER_INPUT",
    errors.AuthenticationError: "UNAUTHENTICATED",
    errors.PermissionDeniedError: "FORBIDDEN",
    errors.NotFoundError: "NOT_FOUND",
    errors.ConflictError: "CONFLICT",
    errors.ConfigurationError: "CONFIGURATION_ERROR",
    errors.HarvestError: "HARVEST_FAILED",
    errors.IdentityProviderUnavailableError: "IDENTITY_PROVIDER_UNAVAILABLE",
    errors.StoreUnavailableError: "STORE_UNAVAILABLE",
    errors.SearchUnavailableError: "SEARCH_UNAVAILABLE",
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


def status_of(exc: errors.CatalogueError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def graphql_code_of(exc: errors.CatalogueError) -> str:
    for cls in type(exc).__mro__:
        if cls in GRAPHQL_CODES:
            return GRAPHQL_CODES[cls]
    return "INTERNAL_SERVER_ERROR"


def error_body(
    code: str, message: str, details: list[dict[str, str | None]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.CatalogueError, _catalogue_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


async def _catalogue_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.CatalogueError)
    details = [{"location": d.location, "message": d.message} for d in exc.details]
    status = status_of(exc)
    challenge = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(exc.code, exc.message, details), status, headers=challenge)


async def _request_invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details: list[dict[str, str | None]] = [
        {"location": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]
    return JSONResponse(error_body("validation_error", "the request is invalid", details), 422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Frames and type only: an exception message could echo a header value.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unexpected %s on %s %s\n%s", type(exc).__name__, request.method, request.url.path, frames
    )
    return JSONResponse(error_body("internal_error", "an unexpected error occurred"), 500)
