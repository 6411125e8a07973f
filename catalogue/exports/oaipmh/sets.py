"""Which OAI-PMH sets a dataset belongs to: the sites (communities) and public collections its
members come from. Called when a version is published; members of private or aggregate-only
collections put the dataset in their site's set only, so no hidden collection is named."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlmodel import Session, col, delete, select

from catalogue.models import Collection, ImagingStudy, Series, Site, Subject, Visibility
from catalogue.models.datasets import DatasetSet

_CHUNK = 500
T = TypeVar("T")
_MEMBER_TYPES = (Series, ImagingStudy, Subject)


def assign_sets(session: Session, dataset_id: uuid.UUID, members: Sequence[str]) -> list[str]:
    """Replace the dataset's sets with those of `members` (record IRIs); returns the specs."""
    collection_ids = _collections_of(session, members)
    specs: set[str] = set()
    for chunk in _chunks(sorted(collection_ids, key=str)):
        rows = session.exec(
            select(Collection, Site)
            .join(Site, col(Site.id) == col(Collection.site_id))
            .where(col(Collection.id).in_(chunk))
        )
        for collection, site in rows:
            specs.add(f"site:{site.slug}")
            if collection.visibility == Visibility.PUBLIC:
                specs.add(f"collection:{collection.id}")
    session.exec(delete(DatasetSet).where(col(DatasetSet.dataset_id) == dataset_id))
    session.add_all(DatasetSet(spec=spec, dataset_id=dataset_id) for spec in sorted(specs))
    return sorted(specs)


def _collections_of(session: Session, members: Sequence[str]) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    for chunk in _chunks(list(members)):
        found.update(session.exec(select(Collection.id).where(col(Collection.iri).in_(chunk))))
        for model in _MEMBER_TYPES:
            column = model.collection_id
            found.update(session.exec(select(column).where(col(model.iri).in_(chunk))))
    return found


def _chunks(items: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
