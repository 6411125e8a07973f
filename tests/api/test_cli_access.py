"""`catalogue keys` and `catalogue tokens`, run as the operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli_access import OPERATOR
from catalogue.apikeys import ApiKeyService
from catalogue.errors import AuthenticationError
from catalogue.grants import GrantService
from catalogue.models import Collection, Source, Visibility
from catalogue.revocations import TokenRevocations
from catalogue.store import Store
from tests.api.test_cli import run


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    created = run("--data-dir", data, "keys", "create", "platform-x", "--scope", "counts:read")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("cat_")
    store = Store(f"sqlite:///{tmp_path / 'var' / 'catalogue.db'}", "http://node.test")
    assert ApiKeyService(store).verify(key).subject == "platform-x"

    listed = run("--data-dir", data, "keys", "list")
    key_id = key.split("_")[1]
    assert key_id in listed.stdout and "active" in listed.stdout
    assert key.rsplit("_", 1)[-1] not in listed.stdout

    assert run("--data-dir", data, "keys", "revoke", key_id).returncode == 0
    with pytest.raises(AuthenticationError, match="revoked"):
        ApiKeyService(store).verify(key)
    store.dispose()


def test_keys_create_refuses_unknown_scopes(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path), "keys", "create", "x", "--scope", "write:all")
    assert result.returncode == 2
    assert "scopes" in result.stderr


def test_tokens_revoke(tmp_path: Path) -> None:
    data = str(tmp_path / "var")
    revoked = run("--data-dir", data, "tokens", "revoke", "jti-42", "--reason", "leaked")
    assert revoked.returncode == 0, revoked.stderr
    store = Store(f"sqlite:///{tmp_path / 'var' / 'catalogue.db'}", "http://node.test")
    assert TokenRevocations(store).is_revoked("jti-42")
    assert not TokenRevocations(store).is_revoked("jti-43")
    store.dispose()


def test_grants_add_and_list(tmp_path: Path) -> None:
    data = tmp_path / "var"
    store = Store(f"sqlite:///{data / 'catalogue.db'}", "http://node.test")
    store.upgrade()
    site = store.ensure_site("site-a", "Hospital A")
    with store.session() as session:
        source = Source(name="pacs", kind="dicom-folder", site_id=site.id)
        session.add(source)
        session.flush()
        collection = Collection(
            site_id=site.id,
            source_id=source.id,
            native_id="p1",
            title="Stroke",
            visibility=Visibility.PRIVATE,
        )
        session.add(collection)
    added = run(
        "--data-dir", str(data), "grants", "add", str(collection.id),
        "--to", "group:neuro", "--level", "counts", "--days", "30",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = run("--data-dir", str(data), "grants", "list", str(collection.id))
    assert "group:neuro" in listed.stdout and "counts" in listed.stdout
    (grant,) = GrantService(store).of_collection(OPERATOR, collection.id)
    assert grant.expires_at is not None and grant.granted_by == "operator"
    store.dispose()
