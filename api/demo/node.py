"""Setting up the demo node: its sources running (the XNAT contract server, the Orthanc upload),
its three sites registered, a published demo dataset, and an admin token to sign in with.

The harvesting itself is the node's own (`catalogue demo` runs the same runner as `catalogue
harvest`); this module prepares what it harvests and what comes after.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
from pydantic import SecretStr

from api.demo import orthanc
from api.demo.sources import SITES, demo_xnat, generate, sources_file
from api.demo.xnat_server import XnatServer
from api.demo.xnat_site import StaticSite
from catalogue.access import Identity, Role
from catalogue.errors import NotFoundError
from catalogue.publishing.factory import dataset_service
from catalogue.publishing.views import DatasetView
from catalogue.search import SearchService, backend_from_settings
from catalogue.settings import Settings
from catalogue.store import Store

ADMIN = Identity(subject="demo-admin", roles=frozenset({Role.ADMIN.value}), via="cli")
DATASET = "ms-3t-flair"
XNAT_PORT = 8070  # a fixed port, so that the XNAT's address stays the same between runs
Say = Callable[[str], None]


@contextmanager
def running_sources(
    settings: Settings, scale: float, say: Say, xnat_port: int = XNAT_PORT
) -> Iterator[Settings]:
    """Generate the sources (once), serve the XNAT, load the Orthanc; yields the node's settings
    for the demo (its sources file, the demo sites, a token secret). The XNAT contract server
    runs until the block ends, so the harvest dashboard can harvest it again."""
    root = settings.data_dir / "demo"
    root.mkdir(parents=True, exist_ok=True)
    dicomweb = orthanc.dicomweb_root(settings.demo_orthanc_url, say)
    found = generate(root, scale, east_folder=dicomweb is None, say=say)
    if dicomweb is not None and settings.demo_orthanc_url is not None:
        orthanc.upload(settings.demo_orthanc_url, found.east, say)
    server = _xnat_server(demo_xnat(found), xnat_port, say)
    with server.running():
        path = sources_file(root, xnat_url=server.url, dicomweb_url=dicomweb)
        say(f"sources: {path} ({found.subjects()} people at three sites)")
        yield _demo_settings(settings, path)


def _xnat_server(site: StaticSite, port: int, say: Say) -> XnatServer:
    """The XNAT contract server on `port`, or on any free port when that one is taken."""
    try:
        return XnatServer(site, port=port)
    except OSError:
        say(f"port {port} is taken: the demo's XNAT listens on another one")
        return XnatServer(site)


def _demo_settings(settings: Settings, sources: Path) -> Settings:
    update: dict[str, Any] = {
        "sources_file": sources,
        "site_slug": "north",
        "doi_provider": "local",
    }
    if not (settings.auth_jwks_file or settings.auth_jwks_url or settings.auth_hs256_secret):
        update["auth_hs256_secret"] = SecretStr(_token_secret(settings.data_dir))
    return settings.model_copy(update=update)


def _token_secret(data_dir: Path) -> str:
    """The demo's token secret, made once and kept in the data directory (owner-only)."""
    path = data_dir / "demo-token.key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def register_sites(store: Store) -> None:
    for slug, name in SITES.items():
        store.ensure_site(slug, name)


def admin_token(settings: Settings, hours: int = 12) -> str | None:
    """A bearer token of the demo's administrator, or None when the node trusts another issuer."""
    if settings.auth_hs256_secret is None or settings.auth_jwks_file or settings.auth_jwks_url:
        return None
    now = int(time.time())
    lifetime = min(hours * 3600, settings.auth_max_token_lifetime_seconds)
    claims: dict[str, Any] = {
        "sub": ADMIN.subject,
        "name": "Demo administrator",
        settings.auth_roles_claim: [Role.ADMIN.value],
        "iat": now,
        "exp": now + lifetime,
    }
    if settings.auth_issuer:
        claims["iss"] = settings.auth_issuer
    if settings.auth_audience:
        claims["aud"] = settings.auth_audience
    return jwt.encode(claims, settings.auth_hs256_secret.get_secret_value(), "HS256")


#: MS patients with a FLAIR at 3 T (any site: only the MS cohort carries diagnoses).
MS_3T_FLAIR = {
    "filter": {
        "op": "and",
        "all": [
            {"op": "concept", "field": "diagnosis",
             "iri": "https://icd.who.int/browse10/2019/en#/G35"},
            {"op": "has_series", "where": {"op": "and", "all": [
                {"op": "concept", "field": "sequence_type",
                 "iri": "https://w3id.org/imaging-catalogue/sequence/FLAIR"},
                {"op": "range", "field": "field_strength_t", "gte": 2.9},
            ]}},
        ],
    }
}  # fmt: skip
METADATA = {
    "creators": [
        {"name": "Demo Consortium"},
        {"name": "South Neuroscience Institute, MS cohort study group"},
    ],
    "license": "CC-BY-4.0",
    "keywords": ["multiple sclerosis", "MRI", "FLAIR", "3 T"],
    "funding": [{"funder_name": "Demo Research Foundation", "award_number": "DRF-2026-001"}],
    "access_conditions": [
        {"site": "south", "who": "researchers with an approved proposal",
         "how": "apply to the institute's data access committee"},
    ],
}  # fmt: skip


def published_dataset(settings: Settings, store: Store, say: Say) -> DatasetView:
    """The demo dataset: made from the cohort query and published once (a local demo DOI under
    10.5072, marked not registered); later runs find it."""
    backend = backend_from_settings(settings)
    try:
        search = SearchService(store, backend, settings.suppression_threshold)
        service = dataset_service(settings, store, search)
        try:
            return service.show(ADMIN, service.find(ADMIN, DATASET))
        except NotFoundError:
            pass
        created = service.create(
            ADMIN,
            {"slug": DATASET, "title": "Multiple sclerosis patients with a 3 T FLAIR",
             "description": "MS patients of the demo catalogue with at least one FLAIR series "
             "acquired at 3 T, frozen from a cohort query.",
             "query": MS_3T_FLAIR, "metadata": METADATA},
        )  # fmt: skip
        view = service.publish(ADMIN, created.id)
        say(f"published the demo dataset {view.concept_doi} (a demo DOI, not registered)")
        return view
    finally:
        backend.close()
