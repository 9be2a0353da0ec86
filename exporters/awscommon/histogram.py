"""Histogram points as CloudWatch value distributions (`Values`/`Counts`), the shape both EMF and
PutMetricData accept, within CloudWatch's limit of 100 distinct values per metric datum."""

from __future__ import annotations

import math
from dataclasses import dataclass

from opentelemetry.sdk.metrics.export import ExponentialHistogramDataPoint, HistogramDataPoint

MAX_VALUES = 100


@dataclass(frozen=True)
class Distribution:
    values: list[float]
    counts: list[float]
    count: int
    sum: float
    min: float
    max: float


def _explicit_buckets(point: HistogramDataPoint) -> list[tuple[float, int]]:
    """Each non-empty bucket at its midpoint; the open-ended first and last ones at their finite bound."""
    bounds = list(point.explicit_bounds)
    out = []
    for i, count in enumerate(point.bucket_counts):
        if not count:
            continue
        lower = bounds[i - 1] if i > 0 else None
        upper = bounds[i] if i < len(bounds) else None
        if lower is None and upper is None:  # a single bucket: the mean is all we know
            value = point.sum / point.count if point.count and point.sum is not None else 0.0
        elif lower is None:
            value = upper
        elif upper is None:
            value = lower
        else:
            value = (lower + upper) / 2
        out.append((value, count))
    return out


def _exponential_buckets(point: ExponentialHistogramDataPoint) -> list[tuple[float, int]]:
    base = 2.0 ** (2.0**-point.scale)
    out: list[tuple[float, int]] = []
    for sign, buckets in ((-1.0, point.negative), (1.0, point.positive)):
        for k, count in enumerate(buckets.bucket_counts):
            if count:
                index = buckets.offset + k
                out.append((sign * (base**index + base ** (index + 1)) / 2, count))
    if point.zero_count:
        out.append((0.0, point.zero_count))
    return sorted(out)


def _merge_to_limit(buckets: list[tuple[float, int]]) -> list[tuple[float, int]]:
    """Merge neighbours (count-weighted mean value) until at most MAX_VALUES remain: totals are kept."""
    if len(buckets) <= MAX_VALUES:
        return buckets
    size = math.ceil(len(buckets) / MAX_VALUES)
    merged = []
    for start in range(0, len(buckets), size):
        group = buckets[start : start + size]
        total = sum(c for _, c in group)
        merged.append((sum(v * c for v, c in group) / total, total))
    return merged


def distribution(point: HistogramDataPoint | ExponentialHistogramDataPoint) -> Distribution | None:
    """None when the point cannot be sent: non-finite sum/min/max or bucket values."""
    buckets = _exponential_buckets(point) if hasattr(point, "scale") else _explicit_buckets(point)
    # min/max are optional in OTLP (None when decoded) or unknown (±inf, NaN for a delta window).
    low = point.min if _known(point.min) else min((v for v, _ in buckets), default=0.0)
    high = point.max if _known(point.max) else max((v for v, _ in buckets), default=0.0)
    total = point.sum if point.sum is not None else sum(v * c for v, c in buckets)
    # A bucket's representative value never lies outside what was observed.
    clamped: dict[float, int] = {}
    for value, count in buckets:
        value = min(max(value, low), high)
        clamped[value] = clamped.get(value, 0) + count
    buckets = _merge_to_limit(sorted(clamped.items()))
    if not all(math.isfinite(x) for x in (total, low, high, *(v for v, _ in buckets))):
        return None
    return Distribution([v for v, _ in buckets], [float(c) for _, c in buckets], point.count, total, low, high)


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)
