"""The last value of every series, as the Collector's prometheus exporter keeps it between scrapes.

Stateful by design (a pull exporter answers scrapes from memory). Delta monotonic sums and delta
histograms are accumulated into cumulative ones when each point starts where the previous one ended;
a later start is a reset, an earlier one is a misaligned point and is dropped (the Collector's rules).
Series not updated for `metric_expiration` disappear. Thread-safe: scrapes read from a worker thread.

Series are keyed by their Prometheus identity (family name and labels), so two OTLP series that the
translator maps to one Prometheus series are one series here (the latest point wins), never a duplicate
line. Points no parser would accept are dropped and counted here, once, by reason: `invalid_name`,
`invalid_label`, `name_conflict`, `invalid_counter_value`, `invalid_histogram`.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

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

from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.translator import SUFFIXES, Labeler, Name, Translator

CUMULATIVE = AggregationTemporality.CUMULATIVE
DELTA = AggregationTemporality.DELTA


class Series(NamedTuple):
    """One accumulated point with what it takes to render it. A named tuple, not a frozen dataclass: one is
    made per point accumulated, and a tuple is made in a fraction of the time."""

    kind: str  # gauge | counter | histogram
    name: Name
    description: str
    labels: dict[str, str]
    point: NumberDataPoint | HistogramDataPoint
    resource: dict[str, Any]
    updated: float


class Families:
    """Which Prometheus family owns which sample names: the first family seen keeps a name, and a later
    one whose samples would clash (another type under the same name, a gauge `x_total` beside a counter
    `x`, a gauge `h_count` beside a histogram `h`) is refused. Two OTLP metrics that map to one family of
    one type are merged into it."""

    def __init__(self, reserved: str) -> None:
        self.reserved = reserved  # target_info, written by the exporter itself
        self.kinds: dict[str, str] = {}
        self.owners: dict[str, str] = {reserved: reserved}

    def admit(self, family: str, kind: str) -> bool:
        if family in self.kinds:
            return self.kinds[family] == kind
        names = [family + suffix for suffix in SUFFIXES[kind]]
        if any(name in self.owners for name in names):
            return False
        self.kinds[family] = kind
        self.owners.update(dict.fromkeys(names, family))
        return True

    def keep_only(self, live: set[str]) -> None:
        """Forget families with no live series, so their names are free again."""
        for family in [f for f in self.kinds if f not in live]:
            del self.kinds[family]
        self.owners = {name: owner for name, owner in self.owners.items() if owner in live or owner == self.reserved}


class Accumulator:
    def __init__(
        self, expiration_s: float, on_drop: Callable[[str, int], None], translator: Translator | None = None
    ) -> None:
        self.expiration_s = expiration_s
        self.on_drop = on_drop  # (reason, points)
        self.translator = translator or Translator(PrometheusConfig())
        self.families = Families(self.translator.target_info)
        self._series: dict[tuple, Series] = {}
        self._lock = threading.Lock()

    def accumulate(self, data: MetricsData) -> int:
        now = time.monotonic()
        stored = 0
        with self._lock:
            for rm in data.resource_metrics:
                resource = dict(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    labeler = self.translator.labeler(resource, sm.scope.name or "", sm.scope.version or "")
                    for metric in sm.metrics:
                        stored += self._accumulate_metric(metric, resource, labeler, now)
        return stored

    def _accumulate_metric(self, metric: Any, resource: dict[str, Any], labeler: Labeler, now: float) -> int:
        points = metric.data.data_points
        kind = _kind(metric.data)
        if kind is None:
            self.on_drop(_why_not(metric.data), len(points))
            return 0
        name = self.translator.name(metric.name, metric.unit or "", kind)
        if name is None:
            self.on_drop("invalid_name", len(points))
            return 0
        if not self.families.admit(name.family, kind):
            self.on_drop("name_conflict", len(points))
            return 0
        stored = 0
        series, description, family = self._series, metric.description or "", name.family
        delta = getattr(metric.data, "aggregation_temporality", CUMULATIVE) is DELTA
        for point in points:
            labels = labeler.labels(point.attributes, kind)
            if labels is None:
                self.on_drop("invalid_label", 1)
                continue
            problem = _point_problem(kind, point)
            if problem:
                self.on_drop(problem, 1)
                continue
            key = (family, labels.key)
            previous = series.get(key)
            merged = point if previous is None else _merge(previous.point, point, delta)
            if merged is None:
                self.on_drop("misaligned delta point", 1)
                continue
            series[key] = Series(kind, name, description, labels, merged, resource, now)
            stored += 1
        return stored

    def snapshot(self) -> list[Series]:
        """Live series, dropping the expired ones."""
        cutoff = time.monotonic() - self.expiration_s
        with self._lock:
            for key in [k for k, s in self._series.items() if s.updated < cutoff]:
                del self._series[key]
            self.families.keep_only({s.name.family for s in self._series.values()})
            return list(self._series.values())


def _merge(before: Any, point: Any, delta: bool) -> Any:
    """The point to store after the series' point `before`, or None for a misaligned delta point."""
    if delta:
        if point.start_time_unix_nano == before.time_unix_nano:
            return _add(before, point)
        if point.start_time_unix_nano > before.time_unix_nano:
            return point  # a gap: the sender restarted, start over
        return None
    return before if point.time_unix_nano < before.time_unix_nano else point  # keep the newest


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


def _point_problem(kind: str, point: Any) -> str | None:
    """Why a point would make the exposition invalid, or None. A counter must be a number >= 0 (the
    OpenMetrics parser refuses NaN and negative counters); a histogram's buckets must add up to its count,
    with one more count than bounds and bounds increasing (else its `+Inf` bucket contradicts `_count`)."""
    if kind == "counter":
        return None if point.value >= 0 else "invalid_counter_value"  # NaN >= 0 is False too
    if kind == "histogram":
        bounds, counts = list(point.explicit_bounds), list(point.bucket_counts)
        increasing = all(a < b for a, b in itertools.pairwise(bounds))
        if len(counts) != len(bounds) + 1 or sum(counts) != point.count or not increasing:
            return "invalid_histogram"
        if any(math.isnan(b) for b in bounds):
            return "invalid_histogram"
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
