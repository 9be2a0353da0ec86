from __future__ import annotations

import urllib.request

from tests.jmx.conftest import debezium, mariadb  # the real connector test bed, for the container and demo tests
from tests.otlpreceiver.conftest import free_port, listening

__all__ = ["debezium", "free_port", "listening", "mariadb", "scrape_own_metrics"]


def scrape_own_metrics(port: int) -> dict[str, float]:
    """The collector's own /metrics, as {'name{labels}': value}, read over HTTP like Prometheus would."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            samples[series] = float(value)
    return samples
