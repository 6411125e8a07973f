"""A private Elasticsearch process for tests that stop the engine (the shared one on 9200 stays
up for everyone else). It runs the distribution `deploy/local/services` unpacked, with its own
configuration, data directory and ports, as the unprivileged `catalogue` user when started by
root (Elasticsearch refuses root), exactly as the deploy script starts the shared one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
SERVICE_USER = "catalogue"


def distribution() -> Path | None:
    services = Path(os.environ.get("CATALOGUE_SERVICES_DIR", REPO / "var" / "services"))
    homes = sorted((services / "elasticsearch").glob("elasticsearch-*/bin/elasticsearch"))
    return homes[-1].parents[1] if homes else None


class ElasticsearchProcess:
    def __init__(self, home: Path, heap: str = "256m") -> None:
        self.home, self.port, self.transport = home, free_port(), free_port()
        self.heap = heap
        self.root = Path(tempfile.mkdtemp(prefix="catalogue-es-"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.pidfile = self.root / "es.pid"
        self._prepare()

    def _prepare(self) -> None:
        self.root.chmod(0o755)  # the service user must reach its directories
        shutil.copytree(self.home / "config", self.root / "config")
        for name in ("data", "logs", "tmp"):
            (self.root / name).mkdir()
        settings = {
            "cluster.name": "catalogue-outage-test",
            "node.name": "outage",
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": self.port,
            "transport.port": self.transport,
            "path.data": self.root / "data",
            "path.logs": self.root / "logs",
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "xpack.security.enabled": "false",
        }
        lines = [f"{k}: {v}" for k, v in settings.items()]
        (self.root / "config" / "elasticsearch.yml").write_text("\n".join(lines) + "\n")
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", f"{SERVICE_USER}:", str(self.root)], check=True)

    def start(self, timeout_s: float = 90.0) -> None:
        java = shutil.which("java")
        java_home = (
            "" if (self.home / "jdk").exists() or not java else str(Path(java).resolve().parents[1])
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root),
            "ES_PATH_CONF": str(self.root / "config"),
            "ES_TMPDIR": str(self.root / "tmp"),
            "ES_JAVA_HOME": java_home,
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.heap}",
        }
        command = [str(self.home / "bin" / "elasticsearch"), "-d", "-p", str(self.pidfile)]
        if os.geteuid() == 0:
            command = [
                "setpriv",
                f"--reuid={SERVICE_USER}",
                f"--regid={SERVICE_USER}",
                "--init-groups",
                *command,
            ]
        subprocess.run(
            command, env=env, cwd=self.root, check=True, capture_output=True, timeout=timeout_s
        )
        deadline = time.monotonic() + timeout_s
        while not self.healthy():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Elasticsearch on {self.url} did not start; see {self.root / 'logs'}"
                )
            time.sleep(0.5)

    def healthy(self) -> bool:
        try:
            health = httpx.get(f"{self.url}/_cluster/health", timeout=2)
        except httpx.HTTPError:
            return False
        return health.status_code == 200 and health.json().get("status") in {"green", "yellow"}

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM the process this object started (its pid file), then SIGKILL if it lingers."""
        if not self.pidfile.exists():
            return
        pid = int(self.pidfile.read_text().strip())
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout_s
        while _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                break
            time.sleep(0.2)
        self.pidfile.unlink(missing_ok=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
