"""DeltaTracker: the Collector's cumulative-to-delta semantics, with resets emitting what they counted."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.metrics.export import AggregationTemporality, Metric, Sum
from opentelemetry.sdk.resources import Resource

from collector import testing
from common.delta import DeltaTracker

S = 1_000_000_000


def counter(value: float, start: int = S, time: int = 2 * S, **attributes: object) -> object:
    return testing.metrics_data(
        testing.sum_metric("c", testing.number_point(value, attributes, start=start, time=time))
    )


def test_first_point_keep_then_deltas_with_previous_time_as_start():
    tracker = DeltaTracker(initial_value="keep")
    first = tracker.convert(counter(5, time=2 * S))
    second = tracker.convert(counter(12, time=3 * S))
    third = tracker.convert(counter(12, time=4 * S))
    assert [p.value for p in testing.data_points(first)] == [5]
    assert [p.value for p in testing.data_points(second)] == [7]
    assert [p.value for p in testing.data_points(third)] == [0]
    assert testing.data_points(second)[0].start_time_unix_nano == 2 * S
    assert testing.data_points(second)[0].time_unix_nano == 3 * S
    body = testing.metrics_by_name(second)["c"].data
    assert body.aggregation_temporality is AggregationTemporality.DELTA and body.is_monotonic
    assert isinstance(testing.data_points(second)[0].value, int)


def test_first_point_drop_only_remembers_it():
    tracker = DeltaTracker(initial_value="drop")
    assert tracker.convert(counter(5)).resource_metrics == []
    assert [p.value for p in testing.data_points(tracker.convert(counter(8, time=3 * S)))] == [3]


def test_auto_keeps_only_counters_started_after_the_tracker():
    tracker = DeltaTracker()  # auto
    born_after = tracker.created_ns + 1
    old = counter(5, start=tracker.created_ns - S, time=tracker.created_ns + S, series="old")
    new = counter(4, start=born_after, time=born_after + S, series="new")
    instant = counter(3, start=born_after, time=born_after, series="instant")
    unset = counter(2, start=0, time=born_after + S, series="unset")
    assert testing.data_points(tracker.convert(old)) == []
    assert [p.value for p in testing.data_points(tracker.convert(new))] == [4]
    assert testing.data_points(tracker.convert(instant)) == []
    assert testing.data_points(tracker.convert(unset)) == []
    assert len(tracker) == 4  # dropped first points are still remembered


def test_decreasing_value_is_a_reset_that_emits_the_new_value():
    tracker = DeltaTracker(initial_value="keep")
    tracker.convert(counter(100, time=2 * S))
    reset = testing.data_points(tracker.convert(counter(30, time=3 * S)))
    assert [p.value for p in reset] == [30]
    assert reset[0].start_time_unix_nano == 2 * S
    assert [p.value for p in testing.data_points(tracker.convert(counter(45, time=4 * S)))] == [15]


def test_changed_start_time_is_a_reset_even_when_the_value_grew():
    tracker = DeltaTracker(initial_value="keep")
    tracker.convert(counter(10, start=S, time=2 * S))
    restarted = testing.data_points(tracker.convert(counter(50, start=5 * S, time=6 * S)))
    assert [p.value for p in restarted] == [50]
    assert restarted[0].start_time_unix_nano == 5 * S
    assert [p.value for p in testing.data_points(tracker.convert(counter(51, start=5 * S, time=7 * S)))] == [1]


def test_gauges_delta_sums_and_non_monotonic_sums_pass_through_unchanged():
    tracker = DeltaTracker(initial_value="drop")
    delta = Metric("d", "", "", Sum([testing.number_point(3)], AggregationTemporality.DELTA, True))
    data = testing.metrics_data(testing.gauge("g", 1.5), delta, testing.sum_metric("updown", -4, monotonic=False))
    for _ in range(2):
        out = testing.metrics_by_name(tracker.convert(data))
        assert out["g"] is data.resource_metrics[0].scope_metrics[0].metrics[0]
        assert out["d"].data.data_points[0].value == 3
        assert out["updown"].data.aggregation_temporality is AggregationTemporality.CUMULATIVE
        assert out["updown"].data.data_points[0].value == -4
    assert len(tracker) == 0


def test_nan_points_are_dropped_and_counted():
    tracker = DeltaTracker(initial_value="keep")
    tracker.convert(counter(1.0, time=2 * S))
    out = tracker.convert(
        testing.metrics_data(testing.sum_metric("c", testing.number_point(math.nan, {}, start=S, time=3 * S)))
    )
    assert out.resource_metrics == []
    assert tracker.last_dropped == {"nan": 1}
    assert [p.value for p in testing.data_points(tracker.convert(counter(4.0, time=4 * S)))] == [3.0]
    assert tracker.last_dropped == {}
    assert tracker.dropped == {"nan": 1}


def test_out_of_order_points_are_dropped_and_counted():
    tracker = DeltaTracker(initial_value="keep")
    tracker.convert(counter(10, time=5 * S))
    assert testing.data_points(tracker.convert(counter(8, time=4 * S))) == []
    assert tracker.last_dropped == {"out_of_order": 1}
    assert [p.value for p in testing.data_points(tracker.convert(counter(11, time=6 * S)))] == [1]


def test_series_are_told_apart_by_attributes_resource_and_name():
    tracker = DeltaTracker(initial_value="keep")
    other = Resource({"service.name": "other"})
    tracker.convert(counter(10, server="a"))
    tracker.convert(counter(100, server="b"))
    tracker.convert(
        testing.metrics_data(
            testing.sum_metric("c", testing.number_point(1000, {"server": "a"}, start=S, time=2 * S)), resource=other
        )
    )
    assert [p.value for p in testing.data_points(tracker.convert(counter(11, time=3 * S, server="a")))] == [1]
    assert [p.value for p in testing.data_points(tracker.convert(counter(102, time=3 * S, server="b")))] == [2]
    again = testing.metrics_data(
        testing.sum_metric("c", testing.number_point(1003, {"server": "a"}, start=S, time=3 * S)), resource=other
    )
    assert [p.value for p in testing.data_points(tracker.convert(again))] == [3]
    assert len(tracker) == 3


def test_max_staleness_forgets_series_and_treats_their_return_as_a_first_point():
    tracker = DeltaTracker(initial_value="drop", max_staleness=60)
    now = time.time_ns()
    tracker.convert(counter(10, time=2 * S, series="quiet"), now_ns=now)
    tracker.convert(counter(10, time=2 * S, series="busy"), now_ns=now)
    assert [
        p.value
        for p in testing.data_points(tracker.convert(counter(15, time=3 * S, series="busy"), now_ns=now + 50 * S))
    ] == [5]
    later = now + 70 * S
    assert (
        testing.data_points(tracker.convert(counter(20, time=4 * S, series="quiet"), now_ns=later)) == []
    )  # first again
    assert [
        p.value for p in testing.data_points(tracker.convert(counter(16, time=4 * S, series="busy"), now_ns=later))
    ] == [1]
    tracker.convert(counter(21, time=5 * S, series="quiet"), now_ns=now + 200 * S)
    assert len(tracker) == 1  # the busy series expired during the sweep


def test_histograms_become_deltas_and_reset_on_lower_counts_or_new_bounds():
    tracker = DeltaTracker(initial_value="keep")

    def convert(counts, bounds, total, t):
        return testing.data_points(
            tracker.convert(
                testing.metrics_data(
                    testing.histogram(
                        "h", testing.histogram_point(counts, bounds, total, start=S, time=t, min=0.0, max=10.0)
                    )
                )
            )
        )

    (first,) = convert([1, 2, 0], [1.0, 5.0], 8.0, 2 * S)
    assert first.bucket_counts == [1, 2, 0] and first.min == 0.0
    (delta,) = convert([2, 5, 1], [1.0, 5.0], 30.5, 3 * S)
    assert (delta.count, delta.sum, list(delta.bucket_counts)) == (5, 22.5, [1, 3, 1])
    assert delta.start_time_unix_nano == 2 * S
    assert math.isnan(delta.min) and math.isnan(delta.max)
    (reset,) = convert([0, 1, 0], [1.0, 5.0], 2.0, 4 * S)
    assert (reset.count, list(reset.bucket_counts)) == (1, [0, 1, 0])
    (rebucketed,) = convert([3, 3], [2.0], 9.0, 5 * S)
    assert list(rebucketed.bucket_counts) == [3, 3]
    assert (
        testing.metrics_by_name(
            tracker.convert(
                testing.metrics_data(
                    testing.histogram("h", testing.histogram_point([3, 4], [2.0], 9.5, start=S, time=6 * S))
                )
            )
        )["h"].data.aggregation_temporality
        is AggregationTemporality.DELTA
    )


def test_histogram_with_nan_sum_is_dropped_and_counted():
    tracker = DeltaTracker(initial_value="keep")
    assert (
        tracker.convert(
            testing.metrics_data(testing.histogram("h", testing.histogram_point([1], [], math.nan)))
        ).resource_metrics
        == []
    )
    assert tracker.last_dropped == {"nan": 1}


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="initial_value"):
        DeltaTracker(initial_value="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_staleness"):
        DeltaTracker(max_staleness=-1)


# A counter's life: it counts up, and now and then restarts from zero, either announcing it with a new
# start time or silently (then the first value after the restart is lower than the last one before it).
steps = st.lists(
    st.one_of(
        st.tuples(st.just("count"), st.integers(0, 1000)),
        st.tuples(st.just("restart_new_start"), st.integers(0, 1000)),
        st.tuples(st.just("restart_same_start"), st.floats(0, 0.999)),
    ),
    max_size=60,
)


@given(first=st.integers(0, 1000), steps=steps, initial_value=st.sampled_from(["keep", "drop"]))
def test_deltas_sum_to_the_true_increase_over_any_sequence_with_resets(first, steps, initial_value):
    tracker = DeltaTracker(initial_value=initial_value)
    start, value, t = S, first, 2 * S
    true_increase = first  # the counter counted from 0 at its start time
    emitted = [testing.data_points(tracker.convert(counter(value, start=start, time=t)))]
    for kind, amount in steps:
        t += S
        if kind == "count":
            value += amount
            true_increase += amount
        elif kind == "restart_new_start":
            start, value = t - 1, amount
            true_increase += amount
        elif value > 0:  # a silent restart is only visible when it lowers the value
            value = int(value * amount)
            true_increase += value
        emitted.append(testing.data_points(tracker.convert(counter(value, start=start, time=t))))
    total = sum(p.value for batch_points in emitted for p in batch_points)
    expected = true_increase if initial_value == "keep" else true_increase - first
    assert total == expected
    assert all(p.value >= 0 for batch_points in emitted for p in batch_points)
    assert sum(len(b) for b in emitted) == len(steps) + (initial_value == "keep")
