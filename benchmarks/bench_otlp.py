"""OTLP encoding throughput: our path (merge equal resources, then the SDK's encoder, then protobuf
bytes) against the OTel SDK's own encoder alone on the same points. The ratio is the price of the merge
that keeps batches from several receivers intact (the SDK encoder alone keeps only the last of equal
resources)."""

from __future__ import annotations

import time

from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from benchmarks.figures import Figure, median_seconds
from collector.metrics import count_points
from collector.otlpjson import to_request

FIGURES = ("otlp_encode_points_per_sec",)


def debezium_like_batch(connectors: int = 20, metrics_per_connector: int = 50) -> MetricsData:
    """One scrape of many connectors: gauges and cumulative sums with Debezium-style attributes."""
    now = time.time_ns()
    start = now - 3600 * 10**9
    metrics = []
    for m in range(metrics_per_connector):
        points = [
            NumberDataPoint({"server": f"db{c}", "context": "streaming", "plugin": "mysql"}, start, now, float(c * m))
            for c in range(connectors)
        ]
        if m % 2:
            metrics.append(
                Metric(f"debezium.metric_{m}", "", "1", Sum(points, AggregationTemporality.CUMULATIVE, True))
            )
        else:
            metrics.append(Metric(f"debezium.metric_{m}", "", "ms", Gauge(points)))
    scope = ScopeMetrics(InstrumentationScope("jmx", "0.1.0"), metrics, "")
    return MetricsData([ResourceMetrics(Resource({"service.name": "connect", "host.name": "worker-1"}), [scope], "")])


def run(quick: bool) -> list[Figure]:
    data = debezium_like_batch()
    points = count_points(data)
    assert to_request(data) == encode_metrics(data), "both paths must encode the same request"
    repeat = 5 if quick else 25
    ours = points / median_seconds(lambda: to_request(data).SerializeToString(), repeat)
    peer = points / median_seconds(lambda: encode_metrics(data).SerializeToString(), repeat)
    return [
        Figure(
            name="otlp_encode_points_per_sec",
            value=ours,
            unit="points/s",
            peer=f"opentelemetry-exporter-otlp encode_metrics ({peer:.4g} points/s)",
            ratio=ours / peer,
            target="ratio >= 0.8",
        )
    ]
