from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Factory
from collector.exporterhelper import QueuedSender
from collector.telemetry import Telemetry
from collector.testing import NopHost, create, gauge, metrics_data, sum_metric
from tests.otlpexporters.victoria import VictoriaMetrics
from tests.tlscerts import make_cert, make_key, write_pem

DATA = metrics_data(
    gauge("MilliSecondsBehindSource", 250.0, attributes={"server": "inventory"}, unit="ms"),
    sum_metric("TotalNumberOfEventsSeen", 42, attributes={"server": "inventory"}, unit="1"),
)
"""What the protocol tests of both exporters send: a gauge and a counter."""


@dataclass
class Running:
    exporter: Any
    sender: QueuedSender
    telemetry: Telemetry

    def sent(self) -> float:
        return self.telemetry.value("otelcol_exporter_sent_metric_points", exporter=self.exporter.id)

    def failed(self) -> float:
        return self.telemetry.value("otelcol_exporter_send_failed_metric_points", exporter=self.exporter.id)


FAST_RETRY = {"initial_interval": "50ms", "max_interval": "200ms", "randomization_factor": 0}


async def export_directly(factory: Factory, raw: dict[str, Any], data: MetricsData, times: int = 1) -> Any:
    """Start an exporter, call `export` (no queue, no retry) `times` times, shut it down; returns it."""
    exporter = create(factory, raw)
    await exporter.start(NopHost())
    try:
        for _ in range(times):
            await exporter.export(data)
    finally:
        await exporter.shutdown()
    return exporter


def partial_success_logged_and_counted(exporter: Any, records: list, message: str) -> float:
    """Points counted as rejected by partial success; asserts the message was logged once and the
    recovery once (the script ends with a full success)."""
    from common.otlp import PARTIAL_SUCCESS_REASON

    logged = [r.getMessage() for r in records if r.name.startswith("collector.exporter")]
    assert sum(message in m for m in logged) == 1, logged
    assert sum("accepts every point again" in m for m in logged) == 1, logged
    return exporter.settings.telemetry.value(
        "collector_dropped_metric_points", component=exporter.id, reason=PARTIAL_SUCCESS_REASON
    )


@asynccontextmanager
async def running(factory: Factory, raw: dict[str, Any], grace: float = 5.0) -> AsyncIterator[Running]:
    """The exporter behind the same QueuedSender the pipeline puts in front of it, started and stopped."""
    import asyncio

    telemetry = Telemetry()
    exporter = create(factory, raw, telemetry=telemetry)
    sender = QueuedSender(exporter, exporter.config, telemetry)
    host = NopHost(telemetry=telemetry)
    await exporter.start(host)
    await sender.start(host)
    try:
        yield Running(exporter, sender, telemetry)
    finally:
        await sender.shutdown(asyncio.get_running_loop().time() + grace)
        await exporter.shutdown()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(tmp_path / "vm-data").start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Certs:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed none of the above

    def read(self, path: Path) -> bytes:
        return path.read_bytes()


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    """A throwaway CA, a server cert for 127.0.0.1/localhost and a client cert, all made here."""
    d = tmp_path_factory.mktemp("certs")
    ca_key, other_key, server_key, client_key = make_key(), make_key(), make_key(), make_key()
    ca = make_cert("test CA", ca_key, "test CA", ca_key, ca=True)
    other = make_cert("other CA", other_key, "other CA", other_key, ca=True)
    server = make_cert("localhost", server_key, "test CA", ca_key, ca=False, san=True)
    client = make_cert("collector", client_key, "test CA", ca_key, ca=False)
    return Certs(
        ca=write_pem(d / "ca.pem", ca),
        server_cert=write_pem(d / "server.pem", server),
        server_key=write_pem(d / "server-key.pem", key=server_key),
        client_cert=write_pem(d / "client.pem", client),
        client_key=write_pem(d / "client-key.pem", key=client_key),
        other_ca=write_pem(d / "other-ca.pem", other),
    )
