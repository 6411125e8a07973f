"""Read helpers of the publishing service: a dataset's parts, found by key."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, or_, select

from catalogue.models import Dataset, DatasetVersion
from catalogue.models.publishing import CohortSnapshot, DatasetCuration, DoiTask, DoiTaskStatus


def versions_of(session: Session, dataset_id: uuid.UUID) -> list[DatasetVersion]:
    """A dataset's versions, oldest first (versions are numbered 1, 2, ...)."""
    found = session.exec(select(DatasetVersion).where(DatasetVersion.dataset_id == dataset_id))
    return sorted(found, key=lambda v: int(v.version))


def curation_of(session: Session, dataset_id: uuid.UUID) -> DatasetCuration | None:
    return session.exec(
        select(DatasetCuration).where(DatasetCuration.dataset_id == dataset_id)
    ).first()


def snapshot_of(session: Session, version: DatasetVersion) -> CohortSnapshot | None:
    return session.exec(
        select(CohortSnapshot).where(CohortSnapshot.version_id == version.id)
    ).first()


def lookup(session: Session, key: str) -> Dataset | None:
    try:
        found = session.get(Dataset, uuid.UUID(key))
        if found is not None:
            return found
    except ValueError:
        pass
    doi = key.lower().removeprefix("https://doi.org/").removeprefix("doi:")
    dataset = session.exec(
        select(Dataset).where(or_(col(Dataset.slug) == key, col(Dataset.concept_doi) == doi))
    ).first()
    if dataset is not None:
        return dataset
    version = session.exec(select(DatasetVersion).where(DatasetVersion.doi == doi)).first()
    return session.get(Dataset, version.dataset_id) if version else None


def open_tasks(session: Session, dataset_id: uuid.UUID) -> list[DoiTask]:
    return list(
        session.exec(
            select(DoiTask)
            .where(DoiTask.dataset_id == dataset_id, DoiTask.status != DoiTaskStatus.DONE)
            .order_by(col(DoiTask.created_at))
        ).all()
    )
