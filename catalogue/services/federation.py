"""Cohort counts across a consortium: this node's index (its own records and those harvested from
peers) merged with live answers from sites that share counts only.

Each live site is asked in parallel with its own timeout; one that is down or slow leaves a
partial answer marked so, never an error. Sites apply their own suppression before answering,
and merging never undoes it: a sum that includes a suppressed count is itself reported as
suppressed, with the exactly known part as `at_least`. Live sites are excluded from the index
part of the answer, so a site is never counted twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Any, Literal

import httpx
import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import col, select

from catalogue.access import Identity
from catalogue.models import HarvestRun, RunStatus, Site, Source
from catalogue.search._summary import Bucket, FacetResult
from catalogue.search.query import SearchQuery, validate_query
from catalogue.search.service import CohortSummary, SearchService
from catalogue.search.suppression import Count
from catalogue.services._live_cohort import LiveAnswer, LiveError, LiveSite, ask
from catalogue.store import Store

__all__ = ["FederatedCohort", "FederationService", "LiveSite", "SiteStatus"]


class SiteStatus(BaseModel):
    slug: str
    origin: Literal["index", "live", "unavailable"]
    as_of: datetime | None = None  # index: the site's last successful harvest here
    reason: str | None = None  # unavailable: why


class FederatedCohort(BaseModel):
    cohort: CohortSummary
    status: list[SiteStatus]
    partial: bool  # some live site gave no answer: its counts are missing


class FederationService:
    def __init__(
        self,
        search: SearchService,
        store: Store,
        live: Sequence[LiveSite] = (),
        *,
        client: httpx.Client | None = None,
    ) -> None:
        self.search = search
        self.store = store
        self.live = list(live)
        self.client = client or httpx.Client()

    def cohort(self, identity: Identity, query: SearchQuery | Mapping[str, Any]) -> FederatedCohort:
        q = validate_query(query)
        if not self.live:
            local = self.search.cohort(identity, q)
            return FederatedCohort(cohort=local, status=self._indexed(local), partial=False)
        document = q.model_dump(mode="json", exclude_none=True)
        pool = ThreadPoolExecutor(max_workers=len(self.live), thread_name_prefix="live-cohort")
        try:
            asked = {s.site: pool.submit(ask, s, document, self.client) for s in self.live}
            local = self.search.cohort(identity, _without(q, [s.site for s in self.live]))
            answers: dict[str, LiveAnswer | str] = {}
            for site in self.live:
                try:
                    answers[site.site] = asked[site.site].result(timeout=site.timeout_s + 1)
                except LiveError as exc:
                    answers[site.site] = str(exc)
                except FutureTimeout:
                    answers[site.site] = f"no answer within {site.timeout_s:g} s"
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return self._merge(local, answers)

    def _merge(self, local: CohortSummary, answers: dict[str, LiveAnswer | str]) -> FederatedCohort:
        status = self._indexed(local)
        parts: list[CohortSummary | LiveAnswer] = [local]
        sites = list(local.sites)
        for slug, answer in answers.items():
            if isinstance(answer, str):
                status.append(SiteStatus(slug=slug, origin="unavailable", reason=answer))
                continue
            status.append(SiteStatus(slug=slug, origin="live"))
            parts.append(answer)
            sites += answer.sites
        merged = CohortSummary(
            subjects=add([p.subjects for p in parts]),
            studies=add([p.studies for p in parts]),
            series=add([p.series for p in parts]),
            sites=sites,
            facets=merge_facets([p.facets for p in parts]),
            threshold=local.threshold,
            engine=local.engine,
        )
        partial = any(isinstance(a, str) for a in answers.values())
        return FederatedCohort(cohort=merged, status=status, partial=partial)

    def _indexed(self, local: CohortSummary) -> list[SiteStatus]:
        fresh = self._last_harvests([s.slug for s in local.sites])
        return [
            SiteStatus(slug=s.slug, origin="index", as_of=fresh.get(s.slug)) for s in local.sites
        ]

    def _last_harvests(self, slugs: list[str]) -> dict[str, datetime]:
        if not slugs:
            return {}
        query = (
            select(Site.slug, sa.func.max(HarvestRun.finished_at))
            .join(Source, col(Source.site_id) == col(Site.id))
            .join(HarvestRun, col(HarvestRun.source_id) == col(Source.id))
            .where(col(Site.slug).in_(slugs), HarvestRun.status == RunStatus.SUCCEEDED)
            .group_by(col(Site.slug))
        )
        with self.store.session() as session:
            return {slug: at for slug, at in session.exec(query) if at is not None}


def _without(q: SearchQuery, sites: list[str]) -> SearchQuery:
    """The query over this node's index minus the sites answered live."""
    exclude = {"op": "not", "filter": {"op": "terms", "field": "site", "values": sites}}
    document = q.model_dump(mode="json", exclude_none=True)
    current = document.get("filter")
    document["filter"] = {"op": "and", "all": [current, exclude]} if current else exclude
    return validate_query(document)


def add(counts: Sequence[Count]) -> Count:
    """A sum that never reveals more than its parts: suppressed if any part is."""
    known = sum(c.value if c.value is not None else c.at_least for c in counts)
    hidden = [c for c in counts if c.suppressed or c.value is None]
    if not hidden:
        return Count(value=known)
    threshold = max((c.threshold or 0) for c in hidden) or None
    return Count(value=None, suppressed=True, threshold=threshold, at_least=known)


def merge_facets(groups: Sequence[Sequence[FacetResult]]) -> list[FacetResult]:
    """Facets of the same field and type from several answers, bucket by bucket."""
    merged: dict[tuple[str, str], list[FacetResult]] = {}
    for facets in groups:
        for f in facets:
            merged.setdefault((f.field, f.type), []).append(f)
    out: list[FacetResult] = []
    for (field, kind), same in merged.items():
        buckets: dict[tuple[Any, float | None, float | None], list[Count]] = {}
        for f in same:
            for b in f.buckets:
                buckets.setdefault((b.value, b.low, b.high), []).append(b.count)
        others = [f.other for f in same if f.other is not None]
        out.append(
            FacetResult(
                field=field,
                type=kind,
                buckets=[
                    Bucket(value=v, low=lo, high=hi, count=add(c))
                    for (v, lo, hi), c in buckets.items()
                ],
                other=add(others) if others else None,
                missing=add([f.missing for f in same]),
            )
        )
    return out
