"""Building the publishing parts from settings (the composition root and the CLI call this)."""

from __future__ import annotations

from catalogue.errors import ConfigurationError, ErrorDetail
from catalogue.publishing.datacite import DataCiteProvider
from catalogue.publishing.providers import DoiProvider, LocalProvider
from catalogue.publishing.service import DatasetService
from catalogue.search.service import SearchService
from catalogue.settings import Settings
from catalogue.store import Store


def provider_from_settings(settings: Settings) -> DoiProvider:
    """The configured DOI provider; DataCite needs its repository id and password."""
    if settings.doi_provider == "local":
        return LocalProvider(settings.doi_prefix)
    missing = [
        ErrorDetail("required when CATALOGUE_DOI_PROVIDER is datacite", f"CATALOGUE_{name}")
        for name, value in (
            ("DATACITE_REPOSITORY_ID", settings.datacite_repository_id),
            ("DATACITE_PASSWORD", settings.datacite_password),
        )
        if not value
    ]
    if missing or settings.datacite_password is None or not settings.datacite_repository_id:
        raise ConfigurationError("DataCite is not configured", missing)
    return DataCiteProvider(
        str(settings.datacite_url),
        settings.datacite_repository_id,
        settings.datacite_password.get_secret_value(),
        settings.doi_prefix,
    )


def dataset_service(settings: Settings, store: Store, search: SearchService) -> DatasetService:
    return DatasetService(
        store, search, provider_from_settings(settings), publisher=settings.node_name
    )
