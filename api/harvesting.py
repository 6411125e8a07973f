"""Harvests started through the API: the runner as the CLI builds it, then the index catches up."""

from __future__ import annotations

import logging

from catalogue.errors import CatalogueError, SearchUnavailableError
from catalogue.search import Indexer
from catalogue.services.coding import CodingService
from catalogue.services.harvests import HarvestService
from catalogue.services.ingest import DeletionPolicy, IngestService
from catalogue.settings import Settings
from catalogue.sources import SourceSpec, load_sources
from catalogue.store import Store
from harvesters.registry import config_models
from harvesters.runner import Runner

log = logging.getLogger(__name__)


def harvest_service(
    settings: Settings, store: Store, indexer: Indexer, coding: CodingService | None = None
) -> HarvestService:
    def specs() -> list[SourceSpec]:
        if settings.sources_file is None:
            return []
        return load_sources(settings.sources_file, config_models())

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

    return HarvestService(store, specs, launch)
