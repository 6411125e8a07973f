"""What the catalogue holds: sites, their collections, and record counts per collection."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from catalogue.access import Access, Identity
from catalogue.grants import collection_access
from catalogue.models import Collection, ImagingStudy, Series, Site, Subject, Visibility
from catalogue.store import Store


class Count(BaseModel):
    """A count as a user may see it: exact, or suppressed (`value` None, below `threshold`)."""

    value: int | None
    suppressed: bool = False
    threshold: int | None = None


class CollectionSummary(BaseModel):
    id: uuid.UUID
    iri: str
    title: str
    description: str
    visibility: Visibility
    site_slug: str
    access_url: str | None
    subjects: Count
    studies: Count
    series: Count


class SiteSummary(BaseModel):
    id: uuid.UUID
    iri: str
    slug: str
    name: str
    collections: list[CollectionSummary]


class OverviewService:
    def __init__(self, store: Store, suppression_threshold: int) -> None:
        self.store = store
        self.threshold = suppression_threshold

    def sites(self, identity: Identity) -> list[SiteSummary]:
        with self.store.session() as session:
            sites = session.exec(select(Site).order_by(col(Site.slug))).all()
            collections = self._collections(session, identity, None)
        by_site: dict[str, list[CollectionSummary]] = {}
        for summary in collections:
            by_site.setdefault(summary.site_slug, []).append(summary)
        return [
            SiteSummary(
                id=s.id,
                iri=s.iri or "",
                slug=s.slug,
                name=s.name,
                collections=by_site.get(s.slug, []),
            )
            for s in sites
        ]

    def collections(
        self, identity: Identity, site_slug: str | None = None
    ) -> list[CollectionSummary]:
        with self.store.session() as session:
            return self._collections(session, identity, site_slug)

    def _collections(
        self, session: Session, identity: Identity, site_slug: str | None
    ) -> list[CollectionSummary]:
        query = (
            select(Collection, Site.slug)
            .join(Site, col(Site.id) == col(Collection.site_id))
            .where(col(Collection.deleted_at).is_(None))
            .order_by(col(Site.slug), col(Collection.title), col(Collection.id))
        )
        if site_slug is not None:
            query = query.where(Site.slug == site_slug)
        access = {a.id: a.access for a in collection_access(session.connection(), identity)}
        rows = [
            (c, slug, access[c.id])
            for c, slug in session.exec(query)
            if access.get(c.id, Access.NONE) is not Access.NONE
        ]
        ids = [c.id for c, _, _ in rows]
        subjects = _count_by_collection(session, Subject, ids)
        studies = _count_by_collection(session, ImagingStudy, ids)
        series = _count_by_collection(session, Series, ids)
        return [
            CollectionSummary(
                id=c.id,
                iri=c.iri or "",
                title=c.title,
                description=c.description,
                visibility=c.visibility,
                site_slug=slug,
                access_url=c.access_url,
                subjects=self._count(level, subjects.get(c.id, 0)),
                studies=self._count(level, studies.get(c.id, 0)),
                series=self._count(level, series.get(c.id, 0)),
            )
            for c, slug, level in rows
        ]

    def _count(self, level: Access, value: int) -> Count:
        if level is Access.RECORDS or value == 0 or value >= self.threshold:
            return Count(value=value)
        return Count(value=None, suppressed=True, threshold=self.threshold)


def _count_by_collection(
    session: Session, model: type[Subject | ImagingStudy | Series], ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, int]:
    wanted = list(ids)
    if not wanted:
        return {}
    query = (
        select(model.collection_id, func.count())
        .where(col(model.collection_id).in_(wanted), col(model.deleted_at).is_(None))
        .group_by(col(model.collection_id))
    )
    return {collection_id: n for collection_id, n in session.exec(query)}
