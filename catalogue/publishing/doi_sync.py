"""Carrying DOI changes to the provider: each change is a `DoiTask` row written in the same
transaction as the dataset change, then called outside it, then marked done or failed.

A failure stays on the dataset (error, located details, attempts) until a retry succeeds; a
task left pending by a crash is retried the same way. The attributes sent are computed when
the call is made, so a retry after a metadata fix sends the fixed metadata.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from catalogue.errors import NotFoundError
from catalogue.models import Dataset, DatasetVersion, DoiState
from catalogue.models.publishing import CohortSnapshot, DoiAction, DoiTask, DoiTaskStatus
from catalogue.publishing.attributes import concept_attributes, version_attributes
from catalogue.publishing.providers import DoiProvider, DoiProviderError
from catalogue.publishing.queries import versions_of
from catalogue.store import Store

#: the state a successful call leaves the DOI in (None: unchanged)
TARGET: dict[DoiAction, DoiState | None] = {
    DoiAction.RESERVE: DoiState.RESERVED,
    DoiAction.REGISTER: DoiState.REGISTERED,
    DoiAction.PUBLISH: DoiState.FINDABLE,
    DoiAction.UPDATE: None,
    DoiAction.HIDE: DoiState.HIDDEN,
    DoiAction.DELETE: DoiState.DRAFT,
}
_SENDS_METADATA = {DoiAction.RESERVE, DoiAction.REGISTER, DoiAction.PUBLISH, DoiAction.UPDATE}


def queue(
    session: Session, dataset: Dataset, version: DatasetVersion | None, action: DoiAction
) -> DoiTask:
    doi = version.doi if version is not None else dataset.concept_doi
    assert doi is not None, "a DOI is minted before it is sent"
    task = DoiTask(
        dataset_id=dataset.id,
        version_id=version.id if version is not None else None,
        doi=doi,
        action=action,
    )
    session.add(task)
    session.flush()
    return task


class DoiSync:
    def __init__(self, store: Store, provider: DoiProvider, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.provider = provider
        self.clock = clock

    def run(self, task_ids: list[uuid.UUID]) -> int:
        """Call the provider for each task in order; returns how many failed."""
        return sum(0 if self._run_one(t) else 1 for t in task_ids)

    def open_tasks(self, dataset_id: uuid.UUID) -> list[uuid.UUID]:
        with self.store.session() as session:
            tasks = session.exec(
                select(DoiTask)
                .where(
                    DoiTask.dataset_id == dataset_id,
                    col(DoiTask.status).in_([DoiTaskStatus.FAILED, DoiTaskStatus.PENDING]),
                )
                .order_by(col(DoiTask.created_at), col(DoiTask.id))
            ).all()
            return [t.id for t in tasks]

    def _run_one(self, task_id: uuid.UUID) -> bool:
        with self.store.session() as session:
            task = session.get(DoiTask, task_id)
            if task is None or task.status is DoiTaskStatus.DONE:
                return True
            action, doi = task.action, task.doi
            attributes = self._attributes(session, task) if action in _SENDS_METADATA else {}
        try:
            self._call(action, doi, attributes)
        except DoiProviderError as exc:
            self._failed(task_id, exc)
            return False
        self._done(task_id)
        return True

    def _call(self, action: DoiAction, doi: str, attributes: dict[str, Any]) -> None:
        p = self.provider
        calls: dict[DoiAction, Callable[[], object]] = {
            DoiAction.RESERVE: lambda: p.reserve(doi, attributes),
            DoiAction.REGISTER: lambda: p.register(doi, attributes),
            DoiAction.PUBLISH: lambda: p.publish(doi, attributes),
            DoiAction.UPDATE: lambda: p.update(doi, attributes),
            DoiAction.HIDE: lambda: p.hide(doi),
            DoiAction.DELETE: lambda: p.delete(doi),
        }
        calls[action]()

    def _attributes(self, session: Session, task: DoiTask) -> dict[str, Any]:
        """What to send, computed now from the stored metadata, and kept as the DOI's `meta`."""
        dataset = session.get(Dataset, task.dataset_id)
        if dataset is None:
            raise NotFoundError("dataset not found")
        versions = versions_of(session, dataset.id)
        now = self.clock()
        if task.version_id is None:
            published = [v for v in versions if v.published_at and v.doi]
            dataset.meta = concept_attributes(dataset, published, now.year)
            return dataset.meta
        index = next(i for i, v in enumerate(versions) if v.id == task.version_id)
        version = versions[index]
        previous = versions[index - 1] if index > 0 else None
        following = versions[index + 1] if index + 1 < len(versions) else None
        attributes = version_attributes(
            dataset, version, (previous, following), _sizes(session, version), now
        )
        if version.published_at:
            version.meta = attributes
        return attributes

    def _failed(self, task_id: uuid.UUID, exc: DoiProviderError) -> None:
        with self.store.session() as session:
            task = session.get(DoiTask, task_id)
            assert task is not None
            task.status = DoiTaskStatus.FAILED
            task.attempts += 1
            task.error = exc.message[:2048]
            task.error_details = [
                {"location": d.location, "message": d.message} for d in exc.details[:50]
            ]
            task.retriable = exc.retriable
            session.add(task)

    def _done(self, task_id: uuid.UUID) -> None:
        with self.store.session() as session:
            task = session.get(DoiTask, task_id)
            assert task is not None
            task.status, task.attempts, task.done_at = (
                DoiTaskStatus.DONE,
                task.attempts + 1,
                self.clock(),
            )
            task.error, task.error_details = None, []
            session.add(task)
            self._apply(session, task)
            self._supersede(session, task)

    def _apply(self, session: Session, task: DoiTask) -> None:
        target = TARGET[task.action]
        if target is None:
            return
        owner: Dataset | DatasetVersion | None
        if task.version_id is None:
            owner = session.get(Dataset, task.dataset_id)
        else:
            owner = session.get(DatasetVersion, task.version_id)
        assert owner is not None
        if task.action is DoiAction.RESERVE and owner.state is not DoiState.DRAFT:
            return  # a late reservation never moves a DOI back
        owner.state = target
        if task.action is DoiAction.DELETE:  # a deleted draft DOI exists nowhere any more
            if isinstance(owner, Dataset):
                owner.concept_doi = None
            else:
                owner.doi = None
        session.add(owner)

    def _supersede(self, session: Session, done: DoiTask) -> None:
        """Earlier failures this call made moot: the same call, or a metadata update that a
        later call carrying the metadata has sent."""
        covered = {done.action} | ({DoiAction.UPDATE} if done.action in _SENDS_METADATA else set())
        earlier = session.exec(
            select(DoiTask).where(
                DoiTask.doi == done.doi,
                col(DoiTask.status) != DoiTaskStatus.DONE,
                col(DoiTask.action).in_(covered),
                col(DoiTask.created_at) <= done.created_at,
            )
        ).all()
        for task in earlier:
            task.status, task.done_at = DoiTaskStatus.DONE, done.done_at
            session.add(task)


def _sizes(session: Session, version: DatasetVersion) -> list[str]:
    """Sizes from members listed by record only: a count that included aggregate-only members
    could be subtracted from to recover a small one."""
    snapshot = session.exec(
        select(CohortSnapshot).where(CohortSnapshot.version_id == version.id)
    ).first()
    subjects = (snapshot.datasheet if snapshot else {}).get("totals", {}).get("subjects", [0])
    sizes = [f"{len(version.members)} series", f"{subjects[0]} subjects"]
    if snapshot and snapshot.counted:
        sizes.append(f"members of aggregate-only collections at {len(snapshot.counted)} sites")
    return sizes
