"""Building MetricsData for the exporter tests (the SDK's own types, built directly)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
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

START = time.time_ns() - 60_000_000_000
# One default timestamp for points built without one: points of a batch built a moment apart must not
# straddle a millisecond, or the exporter rightly splits them into two EMF documents.
NOW = START + 60_000_000_000


def gauge(name: str, value: float, attributes: Mapping[str, Any] | None = None, unit: str = "", t: int | None = None):
    return Metric(name, "", unit, Gauge([NumberDataPoint(dict(attributes or {}), 0, t or NOW, value)]))


def counter(name: str, value: float, attributes: Mapping[str, Any] | None = None, unit: str = "", t: int | None = None):
    point = NumberDataPoint(dict(attributes or {}), START, t or NOW, value)
    return Metric(name, "", unit, Sum([point], AggregationTemporality.CUMULATIVE, True))


def histogram(name: str, counts: Sequence[int], bounds: Sequence[float], total: float, unit: str = "ms"):
    point = HistogramDataPoint({}, START, NOW, sum(counts), total, list(counts), list(bounds), 0.5, 900.0)
    return Metric(name, "", unit, Histogram([point], AggregationTemporality.DELTA))


def batch(metrics: Sequence[Metric], resource: Mapping[str, Any] | None = None) -> MetricsData:
    scope = ScopeMetrics(InstrumentationScope("tests"), list(metrics), "")
    return MetricsData([ResourceMetrics(Resource(dict(resource or {})), [scope], "")])


def make_exporter(factory: Any, config: Mapping[str, Any], component_id: str = "") -> Any:
    """An exporter built as the pipeline builds it: validated config model, settings, factory."""
    from collector.component import ComponentID, CreateSettings, Kind
    from collector.logs import component_logger
    from collector.telemetry import Telemetry

    cid = ComponentID(factory.type, component_id)
    settings = CreateSettings(cid, Kind.EXPORTER, Telemetry(), component_logger(Kind.EXPORTER, str(cid)))
    return factory.create(settings, factory.config_model.model_validate(dict(config)))


def dropped(exporter: Any, reason: str) -> float:
    return exporter.settings.telemetry.value("collector_dropped_metric_points", component=exporter.id, reason=reason)
