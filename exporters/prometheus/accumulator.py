"""The last value of every series, as the Collector's prometheus exporter keeps it between scrapes.

Stateful by design (a pull exporter answers scrapes from memory). Delta monotonic sums and delta
histograms are accumulated into cumulative ones when each point starts where the previous one ended;
a later start is a reset, an earlier one is a misaligned point and is dropped (the Collector's rules).
Series not updated for `metric_expiration` disappear. Thread-safe: scrapes read from a worker thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    Gauge,
    Histogram,
    HistogramDataPoint,
    MetricsData,
    NumberDataPoint,
    Sum,
)

CUMULATIVE = AggregationTemporality.CUMULATIVE
DELTA = AggregationTemporality.DELTA


@dataclass(frozen=True)
class Series:
    """One accumulated point with what it takes to render it."""

    kind: str  # gauge | counter | histogram
    name: str
    description: str
    unit: str
    point: NumberDataPoint | HistogramDataPoint
    resource: dict[str, Any]
    scope_name: str
    scope_version: str
    updated: float


class Accumulator:
    def __init__(self, expiration_s: float, on_drop: Callable[[str, int], None]) -> None:
        self.expiration_s = expiration_s
        self.on_drop = on_drop  # (reason, points)
        self._series: dict[tuple, Series] = {}
        self._lock = threading.Lock()

    def accumulate(self, data: MetricsData) -> int:
        now = time.monotonic()
        stored = 0
        with self._lock:
            for rm in data.resource_metrics:
                resource = dict(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    scope_name, scope_version = sm.scope.name or "", sm.scope.version or ""
                    for metric in sm.metrics:
                        kind = _kind(metric.data)
                        if kind is None:
                            self.on_drop(_why_not(metric.data), len(metric.data.data_points))
                            continue
                        for point in metric.data.data_points:
                            key = (
                                metric.name,
                                kind,
                                scope_name,
                                scope_version,
                                _frozen(point.attributes),
                                _frozen(resource),
                            )
                            merged = self._merge(self._series.get(key), point, metric.data)
                            if merged is None:
                                self.on_drop("misaligned delta point", 1)
                                continue
                            self._series[key] = Series(
                                kind, metric.name, metric.description or "", metric.unit or "", merged, resource,
                                scope_name, scope_version, now,
                            )  # fmt: skip
                            stored += 1
        return stored

    @staticmethod
    def _merge(previous: Series | None, point: Any, data: Any) -> Any:
        """The point to store, or None for a misaligned delta point."""
        if previous is None:
            return point
        before = previous.point
        if getattr(data, "aggregation_temporality", CUMULATIVE) is DELTA:
            if point.start_time_unix_nano == before.time_unix_nano:
                return _add(before, point)
            if point.start_time_unix_nano > before.time_unix_nano:
                return point  # a gap: the sender restarted, start over
            return None
        return before if point.time_unix_nano < before.time_unix_nano else point  # keep the newest

    def snapshot(self) -> list[Series]:
        """Live series, dropping the expired ones."""
        cutoff = time.monotonic() - self.expiration_s
        with self._lock:
            for key in [k for k, s in self._series.items() if s.updated < cutoff]:
                del self._series[key]
            return list(self._series.values())


def _kind(data: Any) -> str | None:
    if isinstance(data, Gauge):
        return "gauge"
    if isinstance(data, Sum):
        if data.is_monotonic:
            return "counter"
        return "gauge" if data.aggregation_temporality is CUMULATIVE else None
    if isinstance(data, Histogram):
        return "histogram"
    return None


def _why_not(data: Any) -> str:
    if isinstance(data, ExponentialHistogram):
        return "exponential histograms have no Prometheus text exposition"
    if isinstance(data, Sum):
        return "delta non-monotonic sums cannot be made cumulative"
    return f"unsupported metric type {type(data).__name__}"


def _add(before: Any, point: Any) -> Any:
    """The cumulative point for `before` followed by the delta `point`."""
    if isinstance(point, NumberDataPoint):
        return dataclasses.replace(
            point, start_time_unix_nano=before.start_time_unix_nano, value=before.value + point.value
        )
    if list(before.explicit_bounds) != list(point.explicit_bounds):
        return dataclasses.replace(point, start_time_unix_nano=before.start_time_unix_nano)
    return dataclasses.replace(
        point,
        start_time_unix_nano=before.start_time_unix_nano,
        count=before.count + point.count,
        sum=(before.sum or 0) + (point.sum or 0),
        bucket_counts=[a + b for a, b in zip(before.bucket_counts, point.bucket_counts, strict=False)],
        min=_pick(min, before.min, point.min),
        max=_pick(max, before.max, point.max),
    )


def _pick(choose: Callable[[float, float], float], a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return a if b is None else b
    return choose(a, b)


def _frozen(attributes: Any) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in (attributes or {}).items()))
