"""Datasets: look-up by id, slug or DOI, the list, datasheets, and the administrators' steps
(create from members or a cohort query, edit the metadata, new version, reserve DOIs, publish,
hide, withdraw), thin over `DatasetService`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from api.graphql import relay
from api.graphql.context import Context, blocking
from api.graphql.search import CohortInput, search_document
from api.graphql.types import Count
from catalogue.errors import ErrorDetail, NotFoundError, ValidationError
from catalogue.publishing import datasheet as sheet
from catalogue.publishing.editable import editable_metadata, licence_choices
from catalogue.publishing.views import DatasetView, VersionView

Info = strawberry.Info[Context, None]


@strawberry.enum(description="Where a DOI stands with its registrar.")
class DoiState(Enum):
    DRAFT = "draft"
    RESERVED = "reserved"
    REGISTERED = "registered"
    FINDABLE = "findable"
    HIDDEN = "hidden"


@strawberry.type(description="One published (or draft) state of a dataset, with its own DOI.")
class DatasetVersion:
    id: strawberry.ID
    iri: str | None
    version: str
    doi: str | None
    state: DoiState
    published_at: datetime | None
    frozen_at: datetime | None
    members: int = strawberry.field(description="Series listed by record.")
    harvest_runs: list[str] = strawberry.field(description="Runs the members came from.")

    @classmethod
    def of(cls, v: VersionView) -> DatasetVersion:
        return cls(
            id=strawberry.ID(str(v.id)),
            iri=v.iri,
            version=v.version,
            doi=v.doi,
            state=DoiState(v.state.value),
            published_at=v.published_at,
            frozen_at=v.frozen_at,
            members=v.members,
            harvest_runs=v.harvest_runs,
        )


@strawberry.type(description="Members counted in one value of a datasheet dimension.")
class DatasheetBucket:
    value: str
    count: Count


@strawberry.type(description="How a version's members spread over one property.")
class DatasheetDimension:
    name: str = strawberry.field(description="site, sex, age_band, modality, sequence_type, ...")
    unit: str = strawberry.field(description="What is counted: subjects or series.")
    buckets: list[DatasheetBucket]


@strawberry.type(description="A version's members counted, suppressed as every other aggregate.")
class Datasheet:
    subjects: Count
    series: Count
    dimensions: list[DatasheetDimension]
    threshold: int

    @classmethod
    def of(cls, d: sheet.Datasheet) -> Datasheet:
        dimensions = [
            DatasheetDimension(
                name=dim.name,
                unit=dim.unit,
                buckets=[
                    DatasheetBucket(value=b.value, count=Count.of(b.count)) for b in dim.buckets
                ],
            )
            for dim in d.dimensions
        ]
        return cls(
            subjects=Count.of(d.subjects),
            series=Count.of(d.series),
            dimensions=dimensions,
            threshold=d.threshold,
        )


@strawberry.type(description="A licence the dataset metadata accepts.")
class Licence:
    id: str = strawberry.field(description="The SPDX licence id, e.g. CC-BY-4.0.")
    name: str


@strawberry.type(description="A curated, citable selection of records.")
class Dataset:
    id: strawberry.ID
    iri: str | None
    slug: str
    title: str
    description: str
    state: DoiState
    concept_doi: str | None
    provider: str = strawberry.field(description="The DOI provider: `local` or `datacite`.")
    doi_registered: bool = strawberry.field(description="False for the local provider's DOIs.")
    versions: list[DatasetVersion]
    open_doi_failures: int = strawberry.field(
        description="DOI calls that failed or never finished (administrators; retry them)."
    )
    tombstoned_at: datetime | None
    tombstone_reason: str | None
    updated_at: datetime
    metadata: JSON = strawberry.field(
        description="The metadata as `updateDatasetMetadata` takes it: titles, descriptions, "
        "creators, license, keywords, subjects, related, access_conditions."
    )

    @strawberry.field(description="Its members counted (the latest version, or `version`).")
    async def datasheet(self, info: Info, version: str | None = None) -> Datasheet:
        ctx = info.context
        found = await blocking(
            ctx.services.datasets.datasheet, ctx.identity, _key(str(self.id)), version
        )
        return Datasheet.of(found)

    @classmethod
    def of(cls, d: DatasetView) -> Dataset:
        return cls(
            id=strawberry.ID(str(d.id)),
            iri=d.iri,
            slug=d.slug,
            title=d.title,
            description=d.description,
            state=DoiState(d.state.value),
            concept_doi=d.concept_doi,
            provider=d.provider,
            doi_registered=d.doi_registered,
            versions=[DatasetVersion.of(v) for v in d.versions],
            open_doi_failures=len(d.failures),
            tombstoned_at=d.tombstoned_at,
            tombstone_reason=d.tombstone_reason,
            updated_at=d.updated_at,
            metadata=JSON(editable_metadata(d.meta, d.access_conditions)),
        )


@strawberry.input(description="A new dataset: explicit members or a cohort query, not both.")
class DatasetInput:
    slug: str
    title: str
    description: str = ""
    members: list[str] | None = strawberry.field(
        default=None, description="Subject or series IRIs."
    )
    query: CohortInput | None = strawberry.field(
        default=None, description="A cohort query, frozen now (its subjects become members)."
    )


def _key(id: str) -> uuid.UUID:
    try:
        return uuid.UUID(id)
    except ValueError:
        raise NotFoundError(f"no dataset {id!r}") from None


async def dataset(info: Info, key: str) -> Dataset:
    ctx = info.context
    service = ctx.services.datasets

    def find() -> DatasetView:
        return service.show(ctx.identity, service.find(ctx.identity, key))

    return Dataset.of(await blocking(find))


async def datasets(info: Info, first: int | None, after: str | None) -> relay.Connection[Dataset]:
    """The datasets the caller may read, most recently changed first."""
    ctx = info.context
    found = await blocking(ctx.services.datasets.listing, ctx.identity)
    return relay.sliced([Dataset.of(d) for d in found], lambda d: str(d.id), first, after)


def licences() -> list[Licence]:
    return [Licence(id=spdx_id, name=name) for spdx_id, name in licence_choices()]


async def update_metadata(info: Info, id: str, metadata: object) -> Dataset:
    ctx = info.context
    if not isinstance(metadata, dict):
        raise ValidationError(
            "invalid dataset metadata", [ErrorDetail("must be a JSON object", "metadata")]
        )
    edited = await blocking(ctx.services.datasets.edit, ctx.identity, _key(id), metadata)
    return Dataset.of(edited)


async def create(info: Info, spec: DatasetInput) -> Dataset:
    ctx = info.context
    doc: dict[str, Any] = {"slug": spec.slug, "title": spec.title}
    doc["description"] = spec.description
    doc["members"] = list(spec.members or [])
    if spec.query is not None:
        doc["query"] = search_document(spec.query)
    made = await blocking(ctx.services.datasets.create, ctx.identity, doc)
    return Dataset.of(made)


async def step(info: Info, name: str, id: str, *args: Any) -> Dataset:
    """One administrators' step of the service (`reserve`, `publish`, ...) on a dataset."""
    ctx = info.context
    method: Callable[..., DatasetView] = getattr(ctx.services.datasets, name)
    if name == "publish":  # its one option is keyword-only

        def method(identity: Any, key: uuid.UUID, findable: bool) -> DatasetView:
            return ctx.services.datasets.publish(identity, key, findable=findable)

    return Dataset.of(await blocking(method, ctx.identity, _key(id), *args))
