"""The OTLP decoder is the exact inverse of the SDK's encoder (what the disk queue and receivers rely on)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
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

from collector.otlpdecode import decode, encode

ATTRS = {"server": "inventory", "ok": True, "n": 7, "ratio": 0.5, "tags": ("a", "b")}


def sample() -> MetricsData:
    # The SDK's encoder writes no start time for gauge points, so gauges here have none.
    number = NumberDataPoint(ATTRS, 0, 20, 42)
    doubled = NumberDataPoint({"server": "orders"}, 0, 20, 1.25)
    counted = NumberDataPoint(ATTRS, 10, 20, 42)
    hist = HistogramDataPoint({"k": "v"}, 10, 20, 6, 33.5, [1, 2, 3], [1.0, 10.0], 0.5, 20.0)
    expo = ExponentialHistogramDataPoint({}, 10, 20, 4, 9.0, 2, 1, Buckets(-1, [1, 2]), Buckets(0, [0]), 0, 0.1, 5.0)
    metrics = [
        Metric("debezium.streaming.MilliSecondsBehindSource", "lag", "ms", Gauge([number, doubled])),
        Metric("events", "", "{event}", Sum([counted], AggregationTemporality.CUMULATIVE, True)),
        Metric("delta", "", "1", Sum([counted, doubled], AggregationTemporality.DELTA, False)),
        Metric("latency", "", "s", Histogram([hist], AggregationTemporality.DELTA)),
        Metric("expo", "", "s", ExponentialHistogram([expo], AggregationTemporality.CUMULATIVE)),
    ]
    scope = InstrumentationScope("jmx", "1.0", None, {"scope.attr": "x"})
    resource = Resource({"service.name": "connect", "host.name": "w1"})
    return MetricsData([ResourceMetrics(resource, [ScopeMetrics(scope, metrics, "")], "")])


def test_round_trip_keeps_every_field() -> None:
    original = sample()
    decoded = decode(encode(original))
    assert decoded.to_json() == original.to_json()
    assert encode(decoded) == encode(original)


def test_histogram_without_min_max_decodes_as_unset() -> None:
    hist = HistogramDataPoint({}, 1, 2, 0, 0, [0], [], math.inf, -math.inf)
    data = MetricsData(
        [
            ResourceMetrics(
                Resource({}),
                [ScopeMetrics(InstrumentationScope("s"), [Metric("h", "", "", Histogram([hist], 2))], "")],
                "",
            )
        ]
    )
    point = decode(encode(data)).resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0]
    assert (point.min, point.max) == (math.inf, -math.inf)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False)), min_size=1, max_size=5),
    key=st.text(min_size=1, max_size=10),
    value=st.text(max_size=20),
)
def test_number_points_round_trip(values: list[float], key: str, value: str) -> None:
    points = [NumberDataPoint({key: value}, 0, 1000 + i, v) for i, v in enumerate(values)]
    data = MetricsData(
        [
            ResourceMetrics(
                Resource({"r": "1"}),
                [ScopeMetrics(InstrumentationScope("s"), [Metric("g", "", "", Gauge(points))], "")],
                "",
            )
        ]
    )
    decoded = decode(encode(data)).resource_metrics[0].scope_metrics[0].metrics[0].data.data_points
    assert [(p.value, type(p.value), dict(p.attributes)) for p in decoded] == [
        (v, type(v), {key: value}) for v in values
    ]
