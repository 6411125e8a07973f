"""Real catalogue nodes for federation tests: each one its own `catalogue` processes, data
directory, database and port on loopback, set up and served through the command line."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.harvesters.orthanc import free_ports

CATALOGUE = shutil.which("catalogue", path=str(Path(sys.executable).parent)) or "catalogue"


class Node:
    def __init__(self, root: Path, site: str, **settings: str) -> None:
        self.root, self.site = root, site
        self.port = free_ports()[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.sources_file = root / "sources.yaml"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CATALOGUE_")}
        self.env.update(
            CATALOGUE_DATA_DIR=str(root / "var"),
            CATALOGUE_SOURCES_FILE=str(self.sources_file),
            CATALOGUE_SITE_SLUG=site,
            CATALOGUE_NODE_NAME=f"Node {site}",
            CATALOGUE_BASE_URL=f"https://{site}.example.org",
            CATALOGUE_INDEX_INTERVAL_S="0.2",
            CATALOGUE_RATE_LIMIT_PER_MINUTE="0",
            COLUMNS="200",
            NO_COLOR="1",
            **settings,
        )
        self.process: subprocess.Popen[bytes] | None = None
        root.mkdir(parents=True, exist_ok=True)
        self.write_sources([])

    @property
    def graphql(self) -> str:
        return f"{self.url}/graphql"

    def write_sources(self, sources: list[dict[str, Any]]) -> None:
        self.sources_file.write_text(yaml.safe_dump({"sources": sources}))

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CATALOGUE, *args], capture_output=True, text=True, env=self.env, timeout=300
        )
        if check and result.returncode != 0:
            raise AssertionError(f"catalogue {' '.join(args)}: {result.stdout}{result.stderr}")
        return result

    def harvest(self, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.cli("harvest", "--all", check=check)

    def key(self, client: str, *scopes: str) -> tuple[str, str]:
        """A new API key for `client`: (key id, key)."""
        args = [arg for scope in scopes for arg in ("--scope", scope)]
        out = self.cli("keys", "create", client, *args).stdout
        key = next(line.strip() for line in out.splitlines() if line.strip().startswith("cat_"))
        return key.split("_")[1], key

    def start(self) -> None:
        with (self.root / "serve.log").open("ab") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [CATALOGUE, "serve", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
        deadline = time.monotonic() + 240  # a node loads its ontology first: slow on a busy machine
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise AssertionError((self.root / "serve.log").read_text())
            time.sleep(0.2)
        log_tail = (self.root / "serve.log").read_text()[-2000:]
        raise AssertionError(f"node {self.site} did not answer /health:\n{log_tail}")

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def query(
        self, document: str, key: str | None = None, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        reply = httpx.post(
            self.graphql,
            json={"query": document, "variables": variables or {}},
            headers=headers,
            timeout=60,
        )
        answer: dict[str, Any] = reply.json()
        assert "errors" not in answer, answer["errors"]
        return answer["data"]
