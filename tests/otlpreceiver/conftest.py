from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import CollectorProcess, free_port, listening, run_collector, wait_for, write_config


@dataclass
class OTLPCollector:
    grpc_port: int
    http_port: int
    out: Path
    process: CollectorProcess

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/v1/metrics"


def otlp_pipeline(tmp_path: Path, protocols: dict, exporters: dict | None = None) -> Path:
    """Write a config with one otlp receiver feeding `exporters` (default: debug)."""
    exporters = exporters or {"debug": {}}
    config = {
        "receivers": {"otlp": {"protocols": protocols}},
        "exporters": exporters,
        "service": {"pipelines": {"metrics": {"receivers": ["otlp"], "exporters": list(exporters)}}},
    }
    return write_config(tmp_path, config)


@pytest.fixture
def otlp_collector(tmp_path: Path) -> Iterator[OTLPCollector]:
    """A real `collector run`: otlp receiver (gRPC + HTTP on free loopback ports) -> file exporter."""
    grpc_port, http_port, out = free_port(), free_port(), tmp_path / "out.jsonl"
    protocols = {
        "grpc": {"endpoint": f"127.0.0.1:{grpc_port}"},
        "http": {"endpoint": f"127.0.0.1:{http_port}", "max_request_body_size": 1_000_000},
    }
    config = otlp_pipeline(tmp_path, protocols, {"file": {"path": str(out)}})
    with run_collector(config) as process:
        try:
            wait_for(lambda: listening(grpc_port) and listening(http_port), 30, "otlp receiver listening")
        except AssertionError:
            raise AssertionError(f"collector did not start listening:\n{process.logs()}") from None
        yield OTLPCollector(grpc_port, http_port, out, process)
