"""Harvests started through the API: the runner as the CLI builds it, then the index catches up."""

from __future__ import annotations

import logging

from catalogue.errors import CatalogueError, SearchUnavailableError
from catalogue.search import Indexer
from catalogue.services.coding import CodingService
from catalogue.services.federation import LiveSite
from catalogue.services.harvests import HarvestService
from catalogue.services.ingest import DeletionPolicy, IngestService
from catalogue.settings import Settings
from catalogue.sources import SourceSpec, load_sources
from catalogue.store import Store
from harvesters.peer import PeerConfig
from harvesters.registry import config_models
from harvesters.runner import Runner

log = logging.getLogger(__name__)


def configured_sources(settings: Settings) -> list[SourceSpec]:
    """The sources file read now, checked against the installed harvesters (none without one)."""
    if settings.sources_file is None:
        return []
    return load_sources(settings.sources_file, config_models())


def harvest_service(
    settings: Settings, store: Store, indexer: Indexer, coding: CodingService | None = None
) -> HarvestService:
    def launch(spec: SourceSpec) -> None:
        runner = Runner(
            IngestService(store, coding),
            settings.site_slug,
            pseudonym_secret=settings.pseudonym_key(),
            policy=DeletionPolicy(
                after_missed_runs=settings.harvest_delete_after_runs,
                failsafe_ratio=settings.harvest_delete_failsafe_ratio,
            ),
        )
        try:
            store.ensure_site(settings.site_slug, settings.node_name)
            runner.run(spec)
        except CatalogueError as exc:  # a failed run is recorded with its reason
            log.warning("harvest of %s failed: %s", spec.name, exc.message)
        try:
            indexer.drain()
        except SearchUnavailableError as exc:  # the outbox keeps the changes
            log.warning("index not updated after harvesting %s: %s", spec.name, exc.message)

    return HarvestService(store, lambda: configured_sources(settings), launch)


def live_sites(settings: Settings) -> list[LiveSite]:
    """The `peer` sources whose cohort counts are asked live rather than read from the index."""
    live: list[LiveSite] = []
    for spec in configured_sources(settings):
        if spec.kind != "peer" or not spec.enabled or not spec.options.get("live_counts"):
            continue
        config = PeerConfig.model_validate(spec.options)
        live.append(
            LiveSite(
                source=spec.name,
                site=spec.site or spec.name,
                url=str(config.url),
                api_key=config.api_key,
                timeout_s=config.live_timeout_s,
            )
        )
    return live
