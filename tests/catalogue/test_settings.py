"""Settings: the environment, defaults, clear errors, redaction, and documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalogue.errors import ConfigurationError
from catalogue.settings import Settings, load_settings, settings_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_need_no_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.data_dir == tmp_path / "var"
    assert settings.store_url == f"sqlite:///{tmp_path / 'var' / 'catalogue.db'}"
    assert settings.search_backend == "embedded"


def test_environment_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CATALOGUE_SEARCH_BACKEND", "elasticsearch")
    monkeypatch.setenv("CATALOGUE_DATA_DIR", str(tmp_path / "env"))
    settings = load_settings(data_dir=tmp_path / "flag")
    assert settings.search_backend == "elasticsearch"
    assert settings.data_dir == tmp_path / "flag"  # a command-line flag wins over the environment


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOGUE_PORT", "eighty")
    monkeypatch.setenv("CATALOGUE_SEARCH_BACKEND", "solr")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    where = {d.location for d in caught.value.details}
    assert where == {"CATALOGUE_PORT", "CATALOGUE_SEARCH_BACKEND"}


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        load_settings(databse_url="sqlite://")


def test_secrets_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOGUE_DATABASE_URL", "postgresql://u:hunter2@db.example/cat")
    monkeypatch.setenv("CATALOGUE_PSEUDONYM_SECRET", "s3cret-key")
    monkeypatch.setenv("CATALOGUE_ELASTICSEARCH_API_KEY", "es-key-42")
    settings = load_settings()
    shown = repr(settings) + str(settings.redacted())
    for secret in ("hunter2", "s3cret-key", "es-key-42"):
        assert secret not in shown
    assert settings.redacted()["database_url"] == "postgresql://u:***@db.example/cat"
    assert settings.store_url.endswith("u:hunter2@db.example/cat")


def test_the_readme_table_is_generated_from_the_settings() -> None:
    """Fails when a setting is added, changed or removed without updating the README."""
    block = re.search(
        r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", README.read_text(), re.S
    )
    assert block is not None, "README lacks the settings block"
    assert block.group(1) == settings_table(), "run `catalogue settings --markdown`"


def test_every_setting_is_described() -> None:
    assert all(field.description for field in Settings.model_fields.values())
