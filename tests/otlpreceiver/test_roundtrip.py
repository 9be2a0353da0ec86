"""The OTel SDK's own OTLP exporters push into a real collector; the file exporter must write it unchanged."""

from __future__ import annotations

import json

import pytest
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, MetricsData, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from collector.metrics import count_points
from collector.otlpjson import request_to_dict, to_request
from collector.testing import every_kind
from tests.support import read_points, wait_for


def written_lines(path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def grpc_exporter(collector, **kwargs) -> GrpcExporter:
    return GrpcExporter(endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True, **kwargs)


def http_exporter(collector, **kwargs) -> HttpExporter:
    return HttpExporter(endpoint=collector.http_url, **kwargs)


@pytest.mark.parametrize(
    "make_exporter",
    [
        pytest.param(grpc_exporter, id="grpc"),
        pytest.param(lambda c: grpc_exporter(c, compression=__import__("grpc").Compression.Gzip), id="grpc-gzip"),
        pytest.param(http_exporter, id="http-protobuf"),
        pytest.param(lambda c: http_exporter(c, compression=HttpCompression.Gzip), id="http-gzip"),
    ],
)
def test_every_field_survives_the_round_trip(otlp_collector, make_exporter):
    exporter = make_exporter(otlp_collector)
    data = every_kind()
    try:
        assert exporter.export(data) is MetricExportResult.SUCCESS
    finally:
        exporter.shutdown()
    (line,) = wait_for(lambda: written_lines(otlp_collector.out), 20, "the file exporter wrote the batch")
    assert line == request_to_dict(to_request(data))
    assert len(read_points(otlp_collector.out)) == count_points(data)


class RecordingExporter(GrpcExporter):
    """The SDK's gRPC exporter, keeping what the SDK handed it so the test can compare."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent: list[MetricsData] = []

    def export(self, metrics_data, timeout_millis=10_000, **kwargs):
        self.sent.append(metrics_data)
        return super().export(metrics_data, timeout_millis=timeout_millis, **kwargs)


def test_a_real_meter_provider_pushing_through_grpc(otlp_collector):
    exporter = RecordingExporter(endpoint=f"127.0.0.1:{otlp_collector.grpc_port}", insecure=True)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    provider = MeterProvider(
        metric_readers=[reader], resource=Resource({"service.name": "connect-worker", "worker.ids": (1, 2)})
    )
    meter = provider.get_meter("debezium.app", "2.7.0")
    events = meter.create_counter("events.seen", unit="{event}", description="events read from the binlog")
    queue = meter.create_up_down_counter("queue.size", unit="{event}")
    latency = meter.create_histogram("commit.latency", unit="ms")
    meter.create_observable_gauge(
        "lag", callbacks=[lambda _o: [Observation(1500, {"server": "inventory", "tags": ("a", "b")})]], unit="ms"
    )
    events.add(5, {"server": "inventory", "snapshot": False})
    events.add(7, {"server": "orders", "weight": 0.5})
    queue.add(-3, {"server": "inventory"})
    for value in (1, 20, 300):
        latency.record(value, {"server": "inventory"})
    provider.force_flush()
    events.add(1, {"server": "inventory", "snapshot": False})
    provider.force_flush()
    provider.shutdown()

    expected = len(exporter.sent)  # two flushes and the final export at shutdown
    assert expected >= 2
    wait_for(lambda: len(written_lines(otlp_collector.out)) >= expected, 20, f"{expected} lines written")
    lines = written_lines(otlp_collector.out)
    assert lines == [request_to_dict(to_request(sent)) for sent in exporter.sent]
    points = read_points(otlp_collector.out)
    seen = [p for p in points if p.name == "events.seen" and p.attributes.get("server") == "inventory"]
    assert [p.value for p in seen][:2] == [5, 6]
    assert seen[0].start_time == seen[1].start_time > 0 and seen[1].time > seen[0].time
    assert {p.temporality for p in seen} == {2} and {p.monotonic for p in seen} == {True}
    assert {p.unit for p in points if p.name == "lag"} == {"ms"}
    assert points[0].resource == {"service.name": "connect-worker", "worker.ids": [1, 2]} | {
        k: v for k, v in points[0].resource.items() if k.startswith("telemetry.sdk")
    }
    assert any(p.attributes == {"server": "inventory", "tags": ["a", "b"]} for p in points if p.name == "lag")


def test_delta_temporality_and_json_over_http(otlp_collector):
    """A delta-temporality SDK client over HTTP/JSON (posted by hand: the SDK has no JSON exporter)."""
    import requests

    from collector.otlpjson import to_json_line

    data = every_kind()
    response = requests.post(
        otlp_collector.http_url, data=to_json_line(data), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {}
    (line,) = wait_for(lambda: written_lines(otlp_collector.out), 20, "the file exporter wrote the batch")
    assert line == request_to_dict(to_request(data))
