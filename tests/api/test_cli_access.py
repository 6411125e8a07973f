"""`catalogue keys` and `catalogue tokens`, run as the operator runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalogue.apikeys import ApiKeyService
from catalogue.errors import AuthenticationError
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
