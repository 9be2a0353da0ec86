"""A real victoria-metrics (Debian trixie's, installed by scripts/install-test-servers.d/victoria-metrics.sh)
on a loopback port with a throwaway storage dir: the otlphttp exporter's OTLP peer, read back with PromQL."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.support import free_port, terminate

INSTALL_DIR = Path(os.environ.get("VICTORIA_METRICS_DIR", "/var/cache/collector-test-servers/victoria-metrics"))
OTLP_PATH = "/opentelemetry"  # the exporter appends /v1/metrics


def binary() -> str:
    found = INSTALL_DIR / "usr/bin/victoria-metrics"
    if found.is_file():
        return str(found)
    on_path = shutil.which("victoria-metrics")
    if on_path:
        return on_path
    raise RuntimeError(
        f"victoria-metrics not found in {found} nor on PATH: run scripts/install-test-servers.d/victoria-metrics.sh"
    )


class VictoriaMetrics:
    def __init__(self, storage: Path, port: int | None = None) -> None:
        self.storage = storage
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = storage.parent / f"victoria-metrics-{self.port}.log"

    @property
    def otlp_endpoint(self) -> str:
        return self.url + OTLP_PATH

    def start(self, timeout: float = 30) -> VictoriaMetrics:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    binary(),
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    f"-storageDataPath={self.storage}",
                    "-search.latencyOffset=0s",  # read back what was just written (default hides the last 30s)
                    "-search.disableCache",
                    "-loggerLevel=ERROR",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"victoria-metrics exited with {self.process.returncode}: {self.log.read_text()}")
            try:
                if self._get("/health") == b"OK":
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"victoria-metrics did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        terminate(self.process, grace=15)
        self.process = None

    def _get(self, path: str, **params: str) -> bytes:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as response:
            return response.read()

    def flush(self) -> None:
        """Make just-ingested samples searchable now (victoria-metrics' own test hook)."""
        self._get("/internal/force_flush")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """Instant query result: [{'metric': {labels}, 'value': [ts, 'v']}, ...]."""
        self.flush()
        return json.loads(self._get("/api/v1/query", query=promql))["data"]["result"]

    def wait_query(self, promql: str, timeout: float = 30) -> list[dict[str, Any]]:
        """Poll until the query has a result: ingested samples become searchable within seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(promql)
            if result:
                return result
            time.sleep(0.3)
        raise AssertionError(f"victoria-metrics has nothing for {promql} after {timeout}s")

    def export(self, selector: str) -> list[dict[str, Any]]:
        """Every raw sample of the matching series: [{'metric', 'values', 'timestamps'}, ...]."""
        self.flush()
        lines = self._get("/api/v1/export", **{"match[]": selector}).decode().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def own_metric(self, name: str, **labels: str) -> float:
        """A value from victoria-metrics' own /metrics page (0 when absent)."""
        wanted = ", ".join(f'{k}="{v}"' for k, v in labels.items())
        for line in self._get("/metrics").decode().splitlines():
            series, _, value = line.rpartition(" ")
            if series == (f"{name}{{{wanted}}}" if labels else name):
                return float(value)
        return 0.0
