"""A real OpenID Connect provider for tests: `provider.mjs` (panva's oidc-provider on Node.js,
installed by `deploy/local/services start`) on a free port, signing with a key made here so
tests can also sign tokens the way the issuer would, or with a key it does not publish."""

from __future__ import annotations

import json
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.conftest import IN_CI

HERE = Path(__file__).resolve().parent
CLIENT_ID = "catalogue-node"
CLIENT_SECRET = "a-client-secret-for-tests-only-0123456789"
PUBLIC_CLIENT_ID = "catalogue-node-public"  # no secret: PKCE only


def signing_key(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    """A fresh RSA key and its private JWK."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key))
    return key, {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@dataclass
class Provider:
    issuer: str
    key: rsa.RSAPrivateKey  # the key the provider signs ID tokens with (kid "provider-key")

    def next_sign_in(self, account: str) -> None:
        """Who the provider signs in at the next authorization (`deny`: the user refuses)."""
        httpx.post(f"{self.issuer}/_test/next", json={"account": account}).raise_for_status()


def _need_node() -> str:
    node = shutil.which("node")
    if node and (HERE / "node_modules" / "oidc-provider").is_dir():
        return node
    reason = "the OpenID Connect provider is not installed (run `deploy/local/services start`)"
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def running_provider(
    workdir: Path, redirect_uri: str, accounts: dict[str, dict[str, Any]]
) -> Iterator[Provider]:
    node = _need_node()
    key, jwk = signing_key("provider-key")
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    }
    public = {**client, "client_id": PUBLIC_CLIENT_ID, "token_endpoint_auth_method": "none"}
    del public["client_secret"]
    config = {"clients": [client, public], "jwks": {"keys": [jwk]}, "accounts": accounts}
    config["next"] = next(iter(accounts))
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "provider.json").write_text(json.dumps(config))
    with (workdir / "provider.log").open("w") as log:
        process = subprocess.Popen(
            [node, str(HERE / "provider.mjs"), str(workdir / "provider.json")],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=HERE,
        )
        try:
            yield Provider(_issuer_of(process, workdir / "provider.log"), key)
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


def _issuer_of(process: subprocess.Popen[str], log: Path) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("issuer "):
        raise RuntimeError(f"the OpenID Connect provider did not start: {log.read_text()[-2000:]}")
    return line.split()[1]
