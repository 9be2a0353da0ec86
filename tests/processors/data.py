"""Builders for SDK `MetricsData` in processor tests: one resource and scope unless told otherwise."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
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

from collector.metrics import iter_metrics

SCOPE = InstrumentationScope("tests", "1")
RESOURCE = Resource({"service.name": "test"})


def number(value: float, attributes: dict[str, Any] | None = None, start: int = 1, time: int = 2) -> NumberDataPoint:
    return NumberDataPoint(dict(attributes or {}), start, time, value)


def gauge(name: str, *points: NumberDataPoint, unit: str = "") -> Metric:
    return Metric(name, "", unit, Gauge(list(points)))


def cumulative_sum(name: str, *points: NumberDataPoint, unit: str = "", monotonic: bool = True) -> Metric:
    return Metric(name, "", unit, Sum(list(points), AggregationTemporality.CUMULATIVE, monotonic))


def histogram_point(
    counts: list[int], bounds: list[float], total: float, start: int = 1, time: int = 2, **attributes: Any
) -> HistogramDataPoint:
    return HistogramDataPoint(attributes, start, time, sum(counts), total, counts, bounds, 0.0, 10.0)


def histogram(name: str, *points: HistogramDataPoint, unit: str = "") -> Metric:
    return Metric(name, "", unit, Histogram(list(points), AggregationTemporality.CUMULATIVE))


def batch(*metrics: Metric, resource: Resource = RESOURCE) -> MetricsData:
    return MetricsData([ResourceMetrics(resource, [ScopeMetrics(SCOPE, list(metrics), "")], "")])


def metrics_by_name(data: MetricsData | None) -> dict[str, Metric]:
    return {} if data is None else {m.name: m for m in iter_metrics(data)}


def points(data: MetricsData | None, name: str | None = None) -> list[Any]:
    if data is None:
        return []
    return [p for m in iter_metrics(data) if name in (None, m.name) for p in m.data.data_points]
