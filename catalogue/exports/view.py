"""What every export describes: a public view of one dataset, or of one of its versions.

Serialisers read only this view, never the store, so each format is a pure function of it. The
view is built from the curated `meta` (DataCite JSON `attributes`) the publishing service keeps;
nothing here reads the harvested records, so no subject-level value can reach an export.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from catalogue.errors import NotFoundError
from catalogue.models import Dataset, DatasetVersion, DoiState
from catalogue.models.publishing import DatasetCuration

#: DOI states whose landing page resolves for everybody (reserved and draft stay private).
RESOLVABLE = frozenset({DoiState.REGISTERED, DoiState.FINDABLE, DoiState.HIDDEN})
#: DOI states listed in catalogue-wide exports (the DCAT catalogue, OAI-PMH).
LISTED = frozenset({DoiState.FINDABLE})


@dataclass(frozen=True)
class Node:
    """The publishing node: its base URL and name (the default publisher)."""

    base_url: str
    name: str


@dataclass(frozen=True)
class VersionLink:
    iri: str
    version: str
    doi: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class AccessCondition:
    """Who may request the images of one site, and how (`contact`: an address or URL)."""

    site: str
    who: str
    how: str
    contact: str | None = None

    @property
    def contact_url(self) -> str | None:
        if not self.contact:
            return None
        if self.contact.startswith(("https://", "http://", "mailto:")):
            return self.contact
        return f"mailto:{self.contact}" if "@" in self.contact else None


@dataclass(frozen=True)
class DatasetView:
    """One dataset (`version` None: the concept, all versions) or one version of it."""

    node: Node
    iri: str
    dataset_id: uuid.UUID
    title: str
    description: str
    attributes: Mapping[str, Any]
    state: DoiState
    modified: datetime
    doi: str | None = None
    version: str | None = None
    published_at: datetime | None = None
    deleted_at: datetime | None = None
    tombstone_reason: str | None = None
    access_conditions: Sequence[AccessCondition] = field(default_factory=tuple)
    concept_iri: str | None = None  # for a version: its dataset
    concept_doi: str | None = None
    versions: Sequence[VersionLink] = field(default_factory=tuple)
    member_count: int | None = None

    @property
    def is_concept(self) -> bool:
        return self.version is None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def cite_as(self) -> str:
        """The persistent identifier to cite: the DOI when there is one, else the IRI."""
        return self.doi_url or self.iri


def own_datasets() -> Any:
    """Our curated datasets, not partners' (`source_id` NULL), as a predicate that no index
    answers: otherwise SQLite walks the `source_id` index (every own dataset) and sorts it for
    each keyset page, where the primary key walk stops after one page."""
    return sa.case((col(Dataset.source_id).is_(None), 1), else_=0) == 1


def dataset_iri(node: Node, dataset_id: uuid.UUID) -> str:
    return f"{node.base_url.rstrip('/')}/id/dataset/{dataset_id}"


def dataset_view(session: Session, node: Node, dataset: Dataset) -> DatasetView:
    """The concept: the dataset's current metadata, and every published version."""
    return dataset_views(session, node, [dataset])[0]


def dataset_views(session: Session, node: Node, datasets: Sequence[Dataset]) -> list[DatasetView]:
    """Views of many datasets, their versions read in one query."""
    ids = [d.id for d in datasets]
    versions: dict[uuid.UUID, list[VersionLink]] = {}
    for dataset_id, link in _published_versions(session, ids):
        versions.setdefault(dataset_id, []).append(link)
    curations = _curations(session, ids)
    return [_concept(node, d, versions.get(d.id, []), curations.get(d.id)) for d in datasets]


def _concept(
    node: Node,
    dataset: Dataset,
    versions: list[VersionLink],
    curation: DatasetCuration | None,
) -> DatasetView:
    tombstoned = curation.tombstoned_at if curation else None
    return DatasetView(
        node=node,
        iri=dataset.iri or dataset_iri(node, dataset.id),
        dataset_id=dataset.id,
        title=dataset.title,
        description=dataset.description,
        attributes=dataset.meta or {},
        state=dataset.state,
        modified=dataset.updated_at,
        doi=dataset.concept_doi,
        published_at=versions[-1].published_at if versions else None,
        deleted_at=dataset.deleted_at or tombstoned,
        tombstone_reason=curation.tombstone_reason if curation else None,
        access_conditions=_conditions(curation),
        concept_doi=dataset.concept_doi,
        versions=tuple(versions),
    )


def version_view(session: Session, node: Node, version: DatasetVersion) -> DatasetView:
    """One version: its frozen metadata and members, linked to its dataset and siblings."""
    dataset = session.get(Dataset, version.dataset_id)
    if dataset is None:
        raise NotFoundError("no such dataset")
    concept = dataset_view(session, node, dataset)
    return DatasetView(
        node=node,
        iri=version.iri or "",
        dataset_id=dataset.id,
        title=version.meta.get("titles", [{}])[0].get("title") or dataset.title,
        description=dataset.description,
        attributes=version.meta or dataset.meta or {},
        state=version.state,
        modified=version.updated_at,
        doi=version.doi,
        version=version.version,
        published_at=version.published_at,
        deleted_at=concept.deleted_at,
        tombstone_reason=concept.tombstone_reason,
        access_conditions=concept.access_conditions,
        concept_iri=concept.iri,
        concept_doi=dataset.concept_doi,
        versions=concept.versions,
        member_count=len(version.members),
    )


def load_view(session: Session, node: Node, kind: str, entity_id: uuid.UUID) -> DatasetView:
    """The view behind `/id/{kind}/{id}`; `NotFoundError` unless it may resolve publicly."""
    view: DatasetView | None = None
    if kind == "dataset":
        dataset = session.get(Dataset, entity_id)
        if dataset is not None and dataset.source_id is None:
            view = dataset_view(session, node, dataset)
    elif kind == "dataset_version":
        version = session.get(DatasetVersion, entity_id)
        if version is not None:
            view = version_view(session, node, version)
    if view is None or view.state not in RESOLVABLE:  # a DOI that never resolved stays dark
        raise NotFoundError(f"no published {kind.replace('_', ' ')} {entity_id}")
    return view


def _published_versions(
    session: Session, dataset_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, VersionLink]]:
    """Resolvable versions of these datasets, newest first within each (links only: a
    version's members can be many, and a concept view does not need them)."""
    if not dataset_ids:
        return []
    v = DatasetVersion
    rows = session.execute(
        sa.select(col(v.dataset_id), col(v.iri), col(v.version), col(v.doi), col(v.published_at))
        .where(col(v.dataset_id).in_(dataset_ids))
        .where(col(v.state).in_(RESOLVABLE))
        .order_by(col(v.published_at).desc(), col(v.version).desc())
    )
    return [
        (dataset_id, VersionLink(iri=iri or "", version=version, doi=doi, published_at=published))
        for dataset_id, iri, version, doi, published in rows
    ]


def _curations(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DatasetCuration]:
    if not ids:
        return {}
    rows = session.exec(select(DatasetCuration).where(col(DatasetCuration.dataset_id).in_(ids)))
    return {row.dataset_id: row for row in rows}


def _conditions(curation: DatasetCuration | None) -> tuple[AccessCondition, ...]:
    if curation is None:
        return ()
    return tuple(
        AccessCondition(
            site=str(item.get("site", "")),
            who=str(item.get("who", "")),
            how=str(item.get("how", "")),
            contact=item.get("contact"),
        )
        for item in curation.access_conditions
        if isinstance(item, Mapping)
    )
