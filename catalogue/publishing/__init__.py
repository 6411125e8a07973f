"""Publishing: curated datasets, their cohort snapshots, datasheets, manifests, versions and
DOIs through a provider (DataCite's REST API, or a local one for demos)."""

from catalogue.publishing.providers import (
    DoiProvider,
    DoiProviderError,
    LocalProvider,
    RemoteState,
)
from catalogue.publishing.service import DatasetService, DatasetSpec

__all__ = [
    "DatasetService",
    "DatasetSpec",
    "DoiProvider",
    "DoiProviderError",
    "LocalProvider",
    "RemoteState",
]
