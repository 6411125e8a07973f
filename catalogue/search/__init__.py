"""Search: one query model, one dumper, two backends (embedded SQLite FTS5, Elasticsearch 8),
the outbox indexer and privacy-safe cohort counts. See `docs/search.md`.

Entry points for adapters:
- `SearchService(store, backend, threshold).search(identity, query)` / `.cohort(identity, query)`
- `Indexer(store, backend).drain()` / `.status()` / `.rebuild(progress)` / `.run(stop)`
- `backend_from_settings(settings)`
"""

from catalogue.search.backend import SearchBackend
from catalogue.search.indexer import DrainReport, Indexer, IndexStatus, RebuildReport
from catalogue.search.query import SearchQuery, validate_query
from catalogue.search.service import (
    CohortSummary,
    SearchResult,
    SearchService,
    backend_from_settings,
)
from catalogue.search.suppression import Count

__all__ = [
    "CohortSummary",
    "Count",
    "DrainReport",
    "IndexStatus",
    "Indexer",
    "RebuildReport",
    "SearchBackend",
    "SearchQuery",
    "SearchResult",
    "SearchService",
    "backend_from_settings",
    "validate_query",
]
