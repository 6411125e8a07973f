"""The per-request context: the caller's identity, the services, and this request's DataLoaders.

Every look-up a nested selection makes goes through a loader, so a page of subjects with their
studies and series costs a fixed number of store queries whatever its size.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext

from catalogue.access import Identity
from catalogue.audit import AuditLog
from catalogue.grants import GrantService
from catalogue.publishing.service import DatasetService
from catalogue.search.service import SearchService
from catalogue.services.changes import ChangeFeed
from catalogue.services.cohorts import SavedCohortService
from catalogue.services.curation import CurationService
from catalogue.services.federation import FederationService
from catalogue.services.harvests import HarvestService
from catalogue.services.overview import CollectionSummary, OverviewService, SiteSummary
from catalogue.services.records import (
    ChildKind,
    ChildPage,
    CodedView,
    Parent,
    RecordReader,
    RecordService,
)
from catalogue.services.terms import TermService

T = TypeVar("T")
ChildKey = tuple[ChildKind, Parent, uuid.UUID, int, uuid.UUID | None]
CountKey = tuple[ChildKind, Parent, uuid.UUID]


@dataclass(frozen=True)
class Services:
    """What the composition root hands the GraphQL adapter."""

    node_name: str
    overview: OverviewService
    records: RecordService
    search: SearchService
    harvests: HarvestService
    identify: Callable[[Request], Awaitable[Identity]]  # `api.auth.identity_from_request`
    terms: TermService
    curation: CurationService
    datasets: DatasetService
    changes: ChangeFeed
    federation: FederationService
    grants: GrantService
    audit: AuditLog
    cohorts: SavedCohortService


async def blocking(call: Callable[..., T], *args: Any) -> T:
    """Run a (blocking, store-bound) service call off the event loop."""
    return await asyncio.to_thread(call, *args)


class Loaders:
    def __init__(self, services: Services, identity: Identity, reader: RecordReader) -> None:
        self.subjects = DataLoader(self._records("subjects", reader))
        self.studies = DataLoader(self._records("studies", reader))
        self.series = DataLoader(self._records("series", reader))
        self.children: DataLoader[ChildKey, ChildPage] = DataLoader(self._children(reader))
        self.counts: DataLoader[CountKey, int] = DataLoader(self._counts(reader))
        self.coded: DataLoader[tuple[ChildKind, uuid.UUID], list[CodedView]] = DataLoader(
            self._coded(reader)
        )
        self._overview = services.overview
        self._identity = identity
        self._sites: asyncio.Future[list[SiteSummary]] | None = None

    async def sites(self) -> list[SiteSummary]:
        """Sites and collections the caller may see, asked once per request."""
        if self._sites is None:
            self._sites = asyncio.ensure_future(blocking(self._overview.sites, self._identity))
        return await self._sites

    async def collection(self, collection_id: uuid.UUID) -> CollectionSummary | None:
        for site in await self.sites():
            for c in site.collections:
                if c.id == collection_id:
                    return c
        return None

    @staticmethod
    def _records(kind: ChildKind, reader: RecordReader) -> Any:
        async def load(ids: Sequence[uuid.UUID]) -> list[Any]:
            found = await blocking(reader.by_ids, kind, list(ids))
            return [found.get(i) for i in ids]

        return load

    @staticmethod
    def _children(reader: RecordReader) -> Any:
        async def load(keys: Sequence[ChildKey]) -> list[ChildPage]:
            groups: dict[tuple[ChildKind, Parent, int, uuid.UUID | None], list[uuid.UUID]]
            groups = defaultdict(list)
            for kind, parent, parent_id, first, after in keys:
                groups[(kind, parent, first, after)].append(parent_id)
            pages: dict[ChildKey, ChildPage] = {}
            for (kind, parent, first, after), parents in groups.items():
                found = await blocking(reader.children, kind, parent, parents, first, after)
                for p, page in found.items():
                    pages[(kind, parent, p, first, after)] = page
            return [pages[k] for k in keys]

        return load

    @staticmethod
    def _counts(reader: RecordReader) -> Any:
        async def load(keys: Sequence[CountKey]) -> list[int]:
            groups: dict[tuple[ChildKind, Parent], list[uuid.UUID]] = defaultdict(list)
            for kind, parent, parent_id in keys:
                groups[(kind, parent)].append(parent_id)
            counts: dict[CountKey, int] = {}
            for (kind, parent), parents in groups.items():
                found = await blocking(reader.child_counts, kind, parent, parents)
                counts.update({(kind, parent, p): n for p, n in found.items()})
            return [counts[k] for k in keys]

        return load

    @staticmethod
    def _coded(reader: RecordReader) -> Any:
        async def load(keys: Sequence[tuple[ChildKind, uuid.UUID]]) -> list[list[CodedView]]:
            groups: dict[ChildKind, list[uuid.UUID]] = defaultdict(list)
            for kind, record_id in keys:
                groups[kind].append(record_id)
            values: dict[tuple[ChildKind, uuid.UUID], list[CodedView]] = {}
            for kind, ids in groups.items():
                found = await blocking(reader.coded, kind, ids)
                values.update({(kind, i): v for i, v in found.items()})
            return [values.get(k, []) for k in keys]

        return load


class Context(BaseContext):
    def __init__(self, services: Services, identity: Identity) -> None:
        super().__init__()
        self.services = services
        self.identity = identity
        self.reader = services.records.reader(identity)
        self.loaders = Loaders(services, identity, self.reader)

    @property
    def node_name(self) -> str:
        return self.services.node_name
