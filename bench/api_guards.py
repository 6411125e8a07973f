"""What the request guards cost: `GET /health` in process through the node's full stack (span,
metrics, body limit, rate limit, CORS) and with an API key or a bearer token to verify, against
the same route on a bare FastAPI app.

    .venv/bin/python bench/api_guards.py                 # 2,000 requests a round, 5 rounds
    .venv/bin/python bench/api_guards.py --requests 5000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import jwt
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from catalogue.access import Identity
from catalogue.apikeys import ApiKeyService
from catalogue.settings import Settings
from catalogue.store import Store

SECRET = "b" * 40


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": "x"}

    return app


async def _round(app: FastAPI, requests: int, headers: dict[str, str]) -> float:
    """Requests per second of one round, answered one after another."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as http:
        started = time.perf_counter()
        for _ in range(requests):
            response = await http.get("/health", headers=headers)
            assert response.status_code == 200, response.text
        return requests / (time.perf_counter() - started)


def measure(app: FastAPI, requests: int, rounds: int, headers: dict[str, str]) -> float:
    asyncio.run(_round(app, min(200, requests), headers))  # warm up
    return statistics.median(asyncio.run(_round(app, requests, headers)) for _ in range(rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            rate_limit_per_minute=10**9,
            rate_limit_burst=10**9,
            cors_origins=["https://ui.example.org"],
            auth_hs256_secret=SecretStr(SECRET),
        )
        store = Store(settings.store_url, settings.base_iri)
        store.upgrade()
        node = create_app(settings, store, index_in_background=False)
        admin = Identity("bench", frozenset({"admin"}))
        key, _ = ApiKeyService(store).create(admin, "bench", ["records:read"], days=1)
        now = int(time.time())
        token = jwt.encode({"sub": "ada", "iat": now, "exp": now + 3600}, SECRET, "HS256")
        lines = [
            ("bare FastAPI route", bare_app(), {}),
            ("node, anonymous", node, {}),
            ("node, bearer token (HS256)", node, {"Authorization": f"Bearer {token}"}),
            ("node, API key (store look-up)", node, {"X-API-Key": key}),
        ]
        baseline = None
        print(f"GET /health in process, {args.requests} requests x {args.rounds} rounds (median)")
        for name, app, headers in lines:
            rate = measure(app, args.requests, args.rounds, headers)
            baseline = baseline or rate
            print(f"  {name:<32} {rate:8.0f} req/s  {rate / baseline:5.2f}x")
        store.dispose()


if __name__ == "__main__":
    main()
