"""A MetricsData that uses every field the SDK model has: shared by the decoder and receiver tests."""

from __future__ import annotations

import logging

from opentelemetry.sdk.metrics._internal.exemplar import Exemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Buckets,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.util.types import AnyValue

from collector.component import ComponentID, CreateSettings, Kind
from collector.telemetry import Telemetry

T0 = 1_700_000_000_000_000_000
T1 = T0 + 60_000_000_000


def every_kind() -> MetricsData:
    attrs: dict[str, AnyValue] = {"server": "inventory", "plugin": "mysql", "ids": (1, 2, 3), "ok": True, "ratio": 0.5}
    exemplar = Exemplar({"query": "q1"}, 42.5, T1, span_id=0x1122334455667788, trace_id=0xAABB << 64 | 0xCCDD)
    metrics = [
        Metric(
            "debezium.streaming.MilliSecondsBehindSource",
            "Lag behind the source database",
            "ms",
            Gauge([NumberDataPoint(attrs, 0, T1, 1500), NumberDataPoint({"server": "b"}, 0, T1, -2.25)]),
        ),
        Metric(
            "debezium.streaming.TotalNumberOfEventsSeen",
            "",
            "{event}",
            Sum(
                [NumberDataPoint(attrs, T0, T1, 12345, exemplars=[exemplar])],
                AggregationTemporality.CUMULATIVE,
                True,
            ),
        ),
        Metric(
            "queue.remaining",
            "",
            "1",
            Sum([NumberDataPoint({"q": "a"}, T0, T1, 3.5)], AggregationTemporality.DELTA, False),
        ),
        Metric(
            "request.duration",
            "How long requests took",
            "s",
            Histogram(
                [
                    HistogramDataPoint(
                        {"route": "/x"}, T0, T1, 6, 12.5, (1, 2, 3), (0.5, 1.0), 0.1, 9.0, exemplars=[exemplar]
                    )
                ],
                AggregationTemporality.DELTA,
            ),
        ),
        Metric(
            "payload.size",
            "",
            "By",
            ExponentialHistogram(
                [
                    ExponentialHistogramDataPoint(
                        {"dir": "in"}, T0, T1, 10, 123.0, 3, 1, Buckets(2, (1, 4, 4)), Buckets(-1, (0, 1)), 0, -1.0, 5.0
                    )
                ],
                AggregationTemporality.CUMULATIVE,
            ),
        ),
    ]
    return MetricsData(
        [
            ResourceMetrics(
                Resource(
                    {"service.name": "connect", "host.ports": (8083, 7098)}, "https://opentelemetry.io/schemas/1.21.0"
                ),
                [
                    ScopeMetrics(
                        InstrumentationScope("collector.jmx", "1.2.3", "https://scope.schema", {"team": "data"}),
                        metrics,
                        "https://scope.schema",
                    )
                ],
                "https://opentelemetry.io/schemas/1.21.0",
            )
        ]
    )


def wrap(*metrics: Metric, resource: Resource | None = None, scope: str = "test") -> MetricsData:
    """One resource, one scope, these metrics."""
    scope_metrics = ScopeMetrics(InstrumentationScope(scope), list(metrics), "")
    return MetricsData([ResourceMetrics(resource or Resource({}), [scope_metrics], "")])


def create_settings(kind: Kind, component_id: str) -> CreateSettings:
    """What a factory gets from the service, for tests that build one component in process."""
    logger = logging.LoggerAdapter(logging.getLogger(f"test.{component_id}"), {})
    return CreateSettings(ComponentID.parse(component_id), kind, Telemetry(), logger)


def point_count(data: MetricsData) -> int:
    return sum(len(m.data.data_points) for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics)
