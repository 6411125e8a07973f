"""What the dataset service returns."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from catalogue.models import Dataset, DatasetVersion, DoiState
from catalogue.models.publishing import (
    CohortSnapshot,
    DatasetCuration,
    DoiAction,
    DoiTask,
    DoiTaskStatus,
)


class DoiTaskView(BaseModel):
    id: uuid.UUID
    doi: str
    version: str | None
    action: DoiAction
    status: DoiTaskStatus
    attempts: int
    error: str | None
    details: list[dict[str, Any]]
    retriable: bool  # False: the registrar refused it; fix the metadata, then retry
    updated_at: datetime


class SiteCount(BaseModel):
    """Members of aggregate-only collections at one site, counted, never listed."""

    site: str
    subjects: int | None  # None: suppressed (fewer than the threshold, or protecting one)
    series: int | None
    suppressed: bool = False


class VersionView(BaseModel):
    id: uuid.UUID
    iri: str | None
    version: str
    doi: str | None
    state: DoiState
    published_at: datetime | None
    frozen_at: datetime | None
    query: dict[str, Any] | None
    members: int  # series listed by record
    counted: list[SiteCount]
    harvest_runs: list[str]


class DatasetView(BaseModel):
    id: uuid.UUID
    iri: str | None
    slug: str
    title: str
    description: str
    state: DoiState
    concept_doi: str | None
    provider: str
    doi_registered: bool  # False: demo DOIs of the local provider, registered nowhere
    meta: dict[str, Any]
    query: dict[str, Any] | None
    access_conditions: list[dict[str, Any]]
    custom_fields: dict[str, Any]
    versions: list[VersionView]
    failures: list[DoiTaskView]  # DOI calls that failed or never finished: retry them
    tombstoned_at: datetime | None
    tombstone_reason: str | None
    updated_at: datetime  # the dataset's or its curation's latest change


def version_view(
    version: DatasetVersion, snapshot: CohortSnapshot | None, counted: list[SiteCount]
) -> VersionView:
    return VersionView(
        id=version.id,
        iri=version.iri,
        version=version.version,
        doi=version.doi,
        state=version.state,
        published_at=version.published_at,
        frozen_at=snapshot.frozen_at if snapshot else None,
        query=snapshot.query if snapshot else None,
        members=len(version.members),
        counted=counted,
        harvest_runs=version.harvest_runs,
    )


def task_view(task: DoiTask, versions: dict[uuid.UUID, str]) -> DoiTaskView:
    return DoiTaskView(
        id=task.id,
        doi=task.doi,
        version=versions.get(task.version_id) if task.version_id else None,
        action=task.action,
        status=task.status,
        attempts=task.attempts,
        error=task.error,
        details=task.error_details,
        retriable=task.retriable,
        updated_at=task.updated_at,
    )


def dataset_view(
    dataset: Dataset,
    curation: DatasetCuration | None,
    versions: list[VersionView],
    failures: list[DoiTaskView],
    provider: tuple[str, bool],
) -> DatasetView:
    return DatasetView(
        id=dataset.id,
        iri=dataset.iri,
        slug=dataset.slug,
        title=dataset.title,
        description=dataset.description,
        state=dataset.state,
        concept_doi=dataset.concept_doi,
        provider=provider[0],
        doi_registered=provider[1],
        meta=dataset.meta,
        query=dataset.query,
        access_conditions=curation.access_conditions if curation else [],
        custom_fields=curation.custom_fields if curation else {},
        versions=versions,
        failures=failures,
        tombstoned_at=curation.tombstoned_at if curation else None,
        tombstone_reason=curation.tombstone_reason if curation else None,
        updated_at=max([dataset.updated_at] + ([curation.updated_at] if curation else [])),
    )
