"""100k points pushed through the OTLP receiver into the file exporter: every one is written, none twice."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpExporter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Metric,
    MetricExportResult,
    MetricsData,
    NumberDataPoint,
    Sum,
)
from opentelemetry.sdk.resources import Resource

from collector.testing import NOW_NS, START_NS, metrics_data
from tests.support import read_points, wait_for

BATCHES = 100
POINTS_PER_BATCH = 1000


def batch(number: int) -> MetricsData:
    half = POINTS_PER_BATCH // 2
    gauge = [NumberDataPoint({"batch": number, "i": i}, 0, NOW_NS, number * POINTS_PER_BATCH + i) for i in range(half)]
    total = [
        NumberDataPoint({"batch": number, "i": i}, START_NS, NOW_NS, float(number * POINTS_PER_BATCH + i))
        for i in range(half, POINTS_PER_BATCH)
    ]
    metrics = [
        Metric("load.gauge", None, "ms", Gauge(gauge)),
        Metric("load.sum", None, "{event}", Sum(total, AggregationTemporality.CUMULATIVE, True)),
    ]
    return metrics_data(*metrics, resource=Resource({"service.name": "load"}), scope="load")


def test_100k_points_arrive_exactly_once(otlp_collector):
    grpc_exporter = OTLPMetricExporter(endpoint=f"127.0.0.1:{otlp_collector.grpc_port}", insecure=True)
    http_exporter = HttpExporter(endpoint=otlp_collector.http_url)
    try:
        for number in range(BATCHES):
            exporter = grpc_exporter if number % 2 == 0 else http_exporter
            assert exporter.export(batch(number), timeout_millis=30_000) is MetricExportResult.SUCCESS
    finally:
        grpc_exporter.shutdown()
        http_exporter.shutdown()
    expected = BATCHES * POINTS_PER_BATCH
    wait_for(lambda: len(read_points(otlp_collector.out)) >= expected, 120, f"{expected} points written", interval=1)
    points = read_points(otlp_collector.out)
    assert len(points) == expected
    assert sorted(int(p.value) for p in points) == list(range(expected))
    assert {(p.name, p.unit) for p in points} == {("load.gauge", "ms"), ("load.sum", "{event}")}
