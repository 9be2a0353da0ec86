"""Histogram points as CloudWatch value distributions (`Values`/`Counts`), the shape both EMF and
PutMetricData accept, within CloudWatch's limit of 100 distinct values per metric datum, and with
statistics that agree with each other: `Min <= Sum/Count <= Max`, every value within `[Min, Max]`,
`Count` the sum of `Counts`."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from opentelemetry.sdk.metrics.export import ExponentialHistogramDataPoint, HistogramDataPoint

MAX_VALUES = 100
# CloudWatch rejects values outside ±2^360 (PutMetricData's documented range; EMF extracts into the same).
MAX_MAGNITUDE = 2.0**360


class Unsendable(ValueError):
    """A point CloudWatch would refuse; `reason` is what it is counted as."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


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
    counts = list(point.bucket_counts)
    if counts and (
        len(counts) != len(bounds) + 1
        or not all(math.isfinite(b) for b in bounds)
        or any(b >= c for b, c in itertools.pairwise(bounds))
    ):
        raise Unsendable("invalid_histogram")
    out = []
    for i, count in enumerate(counts):
        if not count:
            continue
        lower = bounds[i - 1] if i > 0 else None
        upper = bounds[i] if i < len(bounds) else None
        if lower is None and upper is None:  # a single bucket: the mean is all we know
            value = point.sum / count if point.sum is not None else 0.0
        elif lower is None:
            value = upper
        elif upper is None:
            value = lower
        else:
            value = (lower + upper) / 2
        out.append((value, count))
    return out


def _exponential_buckets(point: ExponentialHistogramDataPoint) -> list[tuple[float, int]]:
    try:
        base = 2.0 ** (2.0**-point.scale)
        out: list[tuple[float, int]] = []
        for sign, buckets in ((-1.0, point.negative), (1.0, point.positive)):
            for k, count in enumerate(buckets.bucket_counts):
                if count:
                    index = buckets.offset + k
                    out.append((sign * (base**index + base ** (index + 1)) / 2, count))
    except OverflowError:
        raise Unsendable("non_finite") from None
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
    """The point as CloudWatch takes it; None when the window holds no observation (nothing to send).
    Raises Unsendable for what CloudWatch would refuse: non-finite or out-of-range numbers, negative
    counts, explicit bounds that do not fit the counts.

    `Count` is the sum of the bucket counts (what `Values`/`Counts` say). `Min`/`Max` are the point's
    when known (a delta window's are not: then the lowest/highest bucket value), widened to include the
    mean `Sum/Count` when they contradict it; bucket values are clamped into `[Min, Max]`."""
    buckets = _exponential_buckets(point) if hasattr(point, "scale") else _explicit_buckets(point)
    if any(c < 0 for _, c in buckets):
        raise Unsendable("invalid_histogram")
    count = sum(c for _, c in buckets)
    if not count:
        return None
    total = point.sum if point.sum is not None else sum(v * c for v, c in buckets)
    if not _sendable(total) or not all(_sendable(v) for v, _ in buckets):
        raise Unsendable("non_finite")
    mean = total / count
    # min/max are optional in OTLP (None when decoded) or unknown (±inf, NaN for a delta window).
    low = min(point.min if _known(point.min) else min(v for v, _ in buckets), mean)
    high = max(point.max if _known(point.max) else max(v for v, _ in buckets), mean)
    # A bucket's representative value never lies outside what was observed.
    clamped: dict[float, int] = {}
    for value, bucket_count in buckets:
        value = min(max(value, low), high)
        clamped[value] = clamped.get(value, 0) + bucket_count
    merged = _merge_to_limit(sorted(clamped.items()))
    values = [min(max(v, low), high) for v, _ in merged]  # a merged mean may round past a bound
    return Distribution(values, [float(c) for _, c in merged], count, total, low, high)


def _known(value: float | None) -> bool:
    return value is not None and _sendable(value)


def _sendable(value: float) -> bool:
    return -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE  # False for NaN and ±inf too
