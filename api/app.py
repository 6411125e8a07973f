"""The composition root: `create_app(settings)` builds the store and services and wires adapters."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import auth, errors, oidc, ops, telemetry
from api.fair import fair_router
from api.graphql.context import Services
from api.graphql.router import graphql_router
from api.harvesting import harvest_service, live_sites
from api.manifests import manifest_router
from catalogue import __version__
from catalogue.audit import AuditLog
from catalogue.grants import GrantService
from catalogue.publishing.factory import dataset_service
from catalogue.search import Indexer, SearchService, backend_from_settings
from catalogue.services.changes import ChangeFeed
from catalogue.services.coding import CodingService, load_ontology
from catalogue.services.cohorts import SavedCohortService
from catalogue.services.curation import CurationService
from catalogue.services.federation import FederationService
from catalogue.services.overview import OverviewService
from catalogue.services.records import RecordService
from catalogue.services.terms import TermService
from catalogue.settings import Settings
from catalogue.store import Store
from ontology import Ontology

WEB_ROOT = Path(__file__).parent.parent / "web" / "static"


def create_app(
    settings: Settings,
    store: Store | None = None,
    *,
    index_in_background: bool = True,
    ontology: Ontology | None = None,
) -> FastAPI:
    """Build a node. The store and the ontology are created from settings unless passed in
    (tests, CLI). A serving node drains the outbox into the search index in a background thread."""
    store = store or Store(settings.store_url, settings.base_iri)
    coding = CodingService(ontology or load_ontology(settings))
    terms = TermService(store, coding.ontology, settings.suppression_threshold)
    curation = CurationService(store, coding, terms, settings.curation_review_below)
    overview = OverviewService(store, settings.suppression_threshold)
    backend = backend_from_settings(settings)
    search = SearchService(store, backend, settings.suppression_threshold)
    indexer = Indexer(store, backend)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = threading.Thread(
            target=indexer.run, args=(stop, settings.index_interval_s), name="indexer", daemon=True
        )
        if index_in_background:
            worker.start()
        try:
            yield
        finally:
            stop.set()
            if worker.is_alive():
                worker.join(timeout=30)
            backend.close()
            store.dispose()

    app = FastAPI(
        title=settings.node_name,
        version=__version__,
        description="Federated catalogue of medical-imaging research metadata.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.search = search
    app.state.indexer = indexer
    app.state.terms = terms  # term look-up (catalogue.services.terms)
    app.state.curation = curation  # curation queue and decisions
    app.state.datasets = dataset_service(settings, store, search)  # datasets and DOIs
    errors.install(app)
    auth.install(app, settings, store)
    oidc.install(app)  # browser sign-in with an OpenID Connect issuer, when one is configured
    telemetry.setup_logging(settings)
    telemetry.setup_tracing(settings)
    telemetry.instrument_store(store.engine)
    ops.install(app, settings, store)

    services = Services(
        node_name=settings.node_name,
        overview=overview,
        records=RecordService(store),
        search=search,
        harvests=harvest_service(settings, store, indexer, coding),
        identify=auth.identity_from_request,
        terms=terms,
        curation=curation,
        datasets=app.state.datasets,
        changes=ChangeFeed(store),
        federation=FederationService(search, store, live_sites(settings)),
        grants=GrantService(store),
        audit=AuditLog(store),
        cohorts=SavedCohortService(store),
    )
    app.state.graphql_services = services
    app.include_router(
        graphql_router(settings, services), prefix="/graphql", include_in_schema=False
    )
    app.include_router(fair_router(settings, store))
    app.include_router(manifest_router())
    app.mount("/", StaticFiles(directory=WEB_ROOT, html=True), name="web")
    return app
