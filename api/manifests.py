"""Dataset manifests over HTTP: one row per member series the caller may see records of, as CSV
or JSON, for machine-learning loaders. The caller's credential decides the rows (the same rules as
`catalogue datasets manifest` and the GraphQL API); drafts exist for administrators only."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.auth import identity_from_request
from catalogue.access import Identity
from catalogue.publishing import DatasetService

_MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def manifest_router() -> APIRouter:
    router = APIRouter(tags=["datasets"])

    @router.get(
        "/datasets/{key:path}/manifest.{fmt}",
        summary="A dataset version's manifest (CSV or JSON): the series the caller may see",
    )
    async def get_manifest(
        request: Request,
        key: str,
        fmt: Literal["csv", "json"],
        version: str | None = None,
        identity: Identity = Depends(identity_from_request),
    ) -> Response:
        service: DatasetService = request.app.state.datasets

        def render() -> tuple[str, str]:
            dataset_id = service.find(identity, key)
            slug = service.show(identity, dataset_id).slug
            return slug, service.manifest(identity, dataset_id, fmt, version)

        slug, text = await run_in_threadpool(render)
        name = f"{slug}-v{version}" if version else slug
        disposition = f'attachment; filename="{name}-manifest.{fmt}"'
        return Response(text, media_type=_MEDIA[fmt], headers={"Content-Disposition": disposition})

    return router
