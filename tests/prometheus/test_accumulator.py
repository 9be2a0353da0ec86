"""Delta-to-cumulative, staleness and expiry, as the Collector's prometheus exporter accumulates."""

from __future__ import annotations

import time

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    ExponentialHistogram,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    Sum,
)

from collector.testing import metrics_data
from exporters.prometheus.accumulator import Accumulator

DELTA = AggregationTemporality.DELTA
S = 1_000_000_000


def delta_sum(start: int, end: int, value: int, monotonic: bool = True) -> MetricsData:
    return metrics_data(
        Metric("events", None, "", Sum([NumberDataPoint({"k": "v"}, start, end, value)], DELTA, monotonic))
    )


def test_aligned_delta_sums_accumulate_misaligned_drop_gaps_reset():
    drops = []
    acc = Accumulator(300, lambda reason, n: drops.append((reason, n)))
    acc.accumulate(delta_sum(0, 1 * S, 5))
    acc.accumulate(delta_sum(1 * S, 2 * S, 3))
    (series,) = acc.snapshot()
    assert (series.point.value, series.point.start_time_unix_nano, series.kind) == (8, 0, "counter")
    acc.accumulate(delta_sum(1 * S, 3 * S, 100))  # overlaps what was counted: misaligned
    assert acc.snapshot()[0].point.value == 8 and drops == [("misaligned delta point", 1)]
    acc.accumulate(delta_sum(5 * S, 6 * S, 2))  # a gap: the sender restarted
    assert (acc.snapshot()[0].point.value, acc.snapshot()[0].point.start_time_unix_nano) == (2, 5 * S)


def test_delta_histograms_add_bucket_by_bucket():
    acc = Accumulator(300, lambda *_: None)

    def hist(start, end, counts, total):
        point = HistogramDataPoint({}, start, end, sum(counts), total, counts, (1.0, 2.0), 0.5, 3.0)
        return metrics_data(Metric("h", None, "s", Histogram([point], DELTA)))

    acc.accumulate(hist(0, S, (1, 0, 2), 7.0))
    acc.accumulate(hist(S, 2 * S, (0, 1, 1), 4.5))
    point = acc.snapshot()[0].point
    assert (list(point.bucket_counts), point.count, point.sum, point.start_time_unix_nano) == ([1, 1, 3], 5, 11.5, 0)


def test_unrepresentable_metrics_are_dropped_and_counted():
    drops = []
    acc = Accumulator(300, lambda reason, n: drops.append((reason, n)))
    acc.accumulate(delta_sum(0, S, 5, monotonic=False))
    acc.accumulate(metrics_data(Metric("e", None, "", ExponentialHistogram([object(), object()], DELTA))))
    assert acc.snapshot() == []
    assert drops == [
        ("delta non-monotonic sums cannot be made cumulative", 1),
        ("exponential histograms have no Prometheus text exposition", 2),
    ]


def test_an_older_cumulative_point_does_not_replace_a_newer_one():
    acc = Accumulator(300, lambda *_: None)
    cumulative = AggregationTemporality.CUMULATIVE
    acc.accumulate(metrics_data(Metric("c", None, "", Sum([NumberDataPoint({}, 0, 2 * S, 9)], cumulative, True))))
    acc.accumulate(metrics_data(Metric("c", None, "", Sum([NumberDataPoint({}, 0, 1 * S, 4)], cumulative, True))))
    assert acc.snapshot()[0].point.value == 9


def test_series_expire_after_metric_expiration():
    acc = Accumulator(0.2, lambda *_: None)
    acc.accumulate(delta_sum(0, S, 1))
    assert len(acc.snapshot()) == 1
    time.sleep(0.3)
    assert acc.snapshot() == []
