"""Cumulative-to-delta conversion state, shared by the `cumulativetodelta` processor and exporters that
need deltas (CloudWatch EMF / PutMetricData want the increase per period, not a running total).

Semantics follow the Collector's cumulativetodeltaprocessor, with one deliberate difference: a reset (a
changed start time, or a value lower than the previous one) emits the value counted since the reset
instead of dropping the point, so no increase is ever lost.

- Converted: monotonic cumulative Sums and cumulative Histograms (exponential ones too when asked:
  `exponential=True`, what the CloudWatch exporters use). Non-monotonic cumulative Sums (an
  up-down counter such as a queue size) pass through unchanged, as in the Collector: their deltas mean
  nothing to a backend that sums them. Gauges and delta data pass through unchanged too.
- Series identity: resource + scope + metric name + unit + kind + point attributes.
- First point of a series (`initial_value`): `keep` emits its value as the first delta; `drop` only
  remembers it; `auto` (default) keeps it only if its start time is set, is not before the tracker was
  created and differs from its timestamp (a counter born after we started cannot have been counted
  elsewhere), else drops it.
- Dropped and reported in `dropped` / `last_dropped` (reason -> points): `nan` (a NaN value or
  histogram sum: the stale marker of Prometheus-style sources) and `out_of_order` (a point older than
  the last one seen for its series). Drops decided by `initial_value` are policy, not errors, and are
  not counted there.
- Histogram deltas carry NaN `min`/`max` (the window's extremes are unknown), except on a first or
  reset point, where the cumulative extremes are exactly the window's.
- `max_staleness` (seconds, 0 = never): a series not seen for that long is forgotten; its next point
  is a first point again.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Buckets,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)

from collector.metrics import map_scoped_metrics

InitialValue = Literal["auto", "keep", "drop"]
SeriesKey = tuple[Any, ...]


@dataclass
class _State:
    """What the last point of one series said, to subtract the next one from."""

    start_time: int
    time: int
    last_seen_ns: int
    value: int | float = 0
    count: int = 0
    total: float = 0.0
    bucket_counts: tuple[int, ...] = ()
    bounds: tuple[float, ...] = ()
    scale: int = 0
    zero_count: int = 0
    buckets: tuple[dict[int, int], dict[int, int]] = ({}, {})  # exponential: (positive, negative) by index


def freeze_attributes(attributes: Mapping[str, Any] | None) -> tuple[tuple[str, Any], ...]:
    """A hashable, order-independent form of point or resource attributes (sequences become tuples)."""
    if not attributes:
        return ()
    return tuple(sorted((k, tuple(v) if isinstance(v, list | tuple) else v) for k, v in attributes.items()))


class DeltaTracker:
    """Per-series state keyed by metric name + point attributes + resource (+ scope).

    Not thread-safe: one tracker belongs to one component on the event loop.
    """

    def __init__(
        self,
        *,
        initial_value: InitialValue = "auto",
        max_staleness: float = 0.0,
        select: Callable[[Metric], bool] | None = None,
        exponential: bool = False,
    ) -> None:
        """`select(metric)`, when given, limits conversion to the metrics it accepts. `exponential`
        converts cumulative exponential histograms too (the Collector's processor leaves them; exporters
        whose backend sums what it receives need it)."""
        if initial_value not in ("auto", "keep", "drop"):
            raise ValueError(f"initial_value must be auto, keep or drop, not {initial_value!r}")
        if max_staleness < 0:
            raise ValueError("max_staleness must be >= 0")
        self.initial_value = initial_value
        self.select = select
        self.converted: tuple[type, ...] = (Sum, Histogram, ExponentialHistogram) if exponential else (Sum, Histogram)
        self.max_staleness_ns = int(max_staleness * 1e9)
        self.created_ns = time.time_ns()
        self.dropped: Counter[str] = Counter()
        """Points dropped as invalid since creation, by reason (`nan`, `out_of_order`)."""
        self.last_dropped: Counter[str] = Counter()
        """The same, for the latest `convert` call only."""
        self._states: dict[SeriesKey, _State] = {}
        self._next_sweep_ns = 0

    def __len__(self) -> int:
        """Number of series currently tracked."""
        return len(self._states)

    def convert(self, data: MetricsData, now_ns: int | None = None) -> MetricsData:
        """Cumulative monotonic Sums and cumulative Histograms become DELTA temporality; Gauges,
        non-monotonic Sums and already-delta data pass through unchanged. `now_ns` (default: the wall
        clock) is the time used for staleness."""
        now = time.time_ns() if now_ns is None else now_ns
        self.last_dropped = Counter()
        self._sweep(now)
        context_keys: dict[int, SeriesKey] = {}

        def transform(resource: ResourceMetrics, scope: ScopeMetrics, metric: Metric) -> Metric | None:
            body = metric.data
            if getattr(body, "aggregation_temporality", None) is not AggregationTemporality.CUMULATIVE:
                return metric
            if isinstance(body, Sum) and not body.is_monotonic:
                return metric
            if not isinstance(body, self.converted):
                return metric  # exponential histograms only with `exponential` (the Collector's processor leaves them)
            if self.select is not None and not self.select(metric):
                return metric
            context = context_keys.get(id(scope))
            if context is None:
                context = context_keys[id(scope)] = self._context_key(resource, scope)
            base = (*context, metric.name, metric.unit, type(body).__name__)
            convert_point = (
                self._sum_point
                if isinstance(body, Sum)
                else self._histogram_point
                if isinstance(body, Histogram)
                else self._exponential_point
            )
            points = []
            for point in body.data_points:
                converted = convert_point((*base, freeze_attributes(point.attributes)), point, now)
                if converted is not None:
                    points.append(converted)
            delta = dataclasses.replace(body, data_points=points, aggregation_temporality=AggregationTemporality.DELTA)
            return dataclasses.replace(metric, data=delta)

        result = map_scoped_metrics(data, transform)
        self.dropped.update(self.last_dropped)
        return result

    @staticmethod
    def _context_key(resource: ResourceMetrics, scope: ScopeMetrics) -> SeriesKey:
        res, lib = resource.resource, scope.scope
        return (
            freeze_attributes(res.attributes),
            resource.schema_url,
            lib.name if lib else "",
            lib.version if lib else "",
            scope.schema_url,
        )

    def _first(self, key: SeriesKey, state: _State) -> bool:
        """Remember a new series; True if its first point is emitted under the initial_value policy."""
        self._states[key] = state
        if self.initial_value == "keep":
            return True
        if self.initial_value == "drop":
            return False
        return state.start_time != 0 and state.start_time >= self.created_ns and state.start_time != state.time

    def _known(self, key: SeriesKey, now: int) -> _State | None:
        """The live state of an existing series, or None for a (possibly expired) new one."""
        state = self._states.get(key)
        if state is not None and self.max_staleness_ns and now - state.last_seen_ns > self.max_staleness_ns:
            del self._states[key]
            return None
        return state

    def _sum_point(self, key: SeriesKey, point: NumberDataPoint, now: int) -> NumberDataPoint | None:
        value = point.value
        if isinstance(value, float) and math.isnan(value):
            self.last_dropped["nan"] += 1
            return None
        state = self._known(key, now)
        if state is None:
            fresh = _State(point.start_time_unix_nano, point.time_unix_nano, now, value=value)
            return point if self._first(key, fresh) else None
        if point.time_unix_nano < state.time:
            self.last_dropped["out_of_order"] += 1
            return None
        reset = point.start_time_unix_nano != state.start_time or value < state.value
        delta = value if reset else value - state.value
        start = point.start_time_unix_nano if point.start_time_unix_nano != state.start_time else state.time
        state.start_time, state.time, state.last_seen_ns, state.value = (
            point.start_time_unix_nano,
            point.time_unix_nano,
            now,
            value,
        )
        return dataclasses.replace(point, start_time_unix_nano=start, value=delta)

    def _histogram_point(self, key: SeriesKey, point: HistogramDataPoint, now: int) -> HistogramDataPoint | None:
        if math.isnan(point.sum):
            self.last_dropped["nan"] += 1
            return None
        counts, bounds = tuple(point.bucket_counts), tuple(point.explicit_bounds)
        fresh = _State(
            point.start_time_unix_nano,
            point.time_unix_nano,
            now,
            count=point.count,
            total=point.sum,
            bucket_counts=counts,
            bounds=bounds,
        )
        state, send_first = self._advance(key, fresh, point, now)
        if state is None:
            return point if send_first else None
        reset = (
            point.start_time_unix_nano != state.start_time
            or bounds != state.bounds
            or len(counts) != len(state.bucket_counts)
            or point.count < state.count
            or any(new < old for new, old in zip(counts, state.bucket_counts, strict=True))
        )
        if reset:
            return _since_reset(point, state)
        return dataclasses.replace(
            point,
            start_time_unix_nano=state.time,
            count=point.count - state.count,
            sum=point.sum - state.total,
            bucket_counts=[new - old for new, old in zip(counts, state.bucket_counts, strict=True)],
            min=math.nan,
            max=math.nan,
        )

    def _advance(self, key: SeriesKey, fresh: _State, point: Any, now: int) -> tuple[_State | None, bool]:
        """What both histogram kinds share: (previous state, False) to subtract from; (None, True) for
        a first point sent as it is; (None, False) for a point not sent. `fresh` becomes the state."""
        state = self._known(key, now)
        if state is None:
            return None, self._first(key, fresh)
        if point.time_unix_nano < state.time:
            self.last_dropped["out_of_order"] += 1
            return None, False
        self._states[key] = fresh
        return state, False

    def _exponential_point(
        self, key: SeriesKey, point: ExponentialHistogramDataPoint, now: int
    ) -> ExponentialHistogramDataPoint | None:
        """As `_histogram_point`; the previous buckets are first brought down to the point's scale (a
        cumulative exponential histogram only ever lowers its scale), a higher scale is a reset."""
        if math.isnan(point.sum):
            self.last_dropped["nan"] += 1
            return None
        buckets = (_by_index(point.positive), _by_index(point.negative))
        fresh = _State(
            point.start_time_unix_nano,
            point.time_unix_nano,
            now,
            count=point.count,
            total=point.sum,
            scale=point.scale,
            zero_count=point.zero_count,
            buckets=buckets,
        )
        state, send_first = self._advance(key, fresh, point, now)
        if state is None:
            return point if send_first else None
        deltas = None
        if point.start_time_unix_nano == state.start_time and point.scale <= state.scale:
            shift = state.scale - point.scale
            deltas = [_subtract(new, _downscale(old, shift)) for new, old in zip(buckets, state.buckets, strict=True)]
        zero = point.zero_count - state.zero_count
        if deltas is None or None in deltas or zero < 0 or point.count < state.count:
            return _since_reset(point, state)
        positive, negative = (_as_buckets(d) for d in deltas)
        return dataclasses.replace(
            point,
            start_time_unix_nano=state.time,
            count=point.count - state.count,
            sum=point.sum - state.total,
            zero_count=zero,
            positive=positive,
            negative=negative,
            min=math.nan,
            max=math.nan,
        )

    def _sweep(self, now: int) -> None:
        """Forget expired series now and then, so memory follows the live series count."""
        if not self.max_staleness_ns or now < self._next_sweep_ns:
            return
        self._next_sweep_ns = now + self.max_staleness_ns
        limit = now - self.max_staleness_ns
        for key in [k for k, s in self._states.items() if s.last_seen_ns < limit]:
            del self._states[key]


def _since_reset(point: Any, state: _State) -> Any:
    """A histogram point after a reset: its own counts, from the reset (or the previous point) on."""
    start = point.start_time_unix_nano if point.start_time_unix_nano != state.start_time else state.time
    return dataclasses.replace(point, start_time_unix_nano=start)


def _by_index(buckets: Buckets) -> dict[int, int]:
    return {buckets.offset + i: count for i, count in enumerate(buckets.bucket_counts) if count}


def _downscale(counts: dict[int, int], shift: int) -> dict[int, int]:
    """Buckets at a scale `shift` lower: 2**shift neighbours merge into one (index >> shift)."""
    if not shift:
        return counts
    merged: dict[int, int] = {}
    for index, count in counts.items():
        merged[index >> shift] = merged.get(index >> shift, 0) + count
    return merged


def _subtract(new: dict[int, int], old: dict[int, int]) -> dict[int, int] | None:
    """new - old per bucket; None when a bucket went down (a reset)."""
    delta = dict(new)
    for index, count in old.items():
        left = delta.get(index, 0) - count
        if left < 0:
            return None
        delta[index] = left
    return delta


def _as_buckets(counts: dict[int, int]) -> Buckets:
    live = [i for i, c in counts.items() if c]
    if not live:
        return Buckets(0, [])
    low, high = min(live), max(live)
    return Buckets(low, [counts.get(i, 0) for i in range(low, high + 1)])
