"""One test per row of the table "Where our EMF differs from the Collector's awsemfexporter" in
exporters/awsemf/README.md: for the same input, what we write (the Collector's behaviour is described
in each docstring, from its datapoint.go / metric_translator.go)."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from collector import testing
from collector.otlpdecode import decode
from collector.testing import (
    CUMULATIVE,
    DELTA,
    NOW_NS,
    START_NS,
    Metric,
    NopHost,
    create,
    gauge,
    metrics_data,
    sum_metric,
)
from exporters.awsemf import factory
from tests.awsexporters.emf_rules import check_document

MINUTE = 60 * 10**9


async def documents(config: dict[str, Any], capsys, *batches) -> list[list[dict[str, Any]]]:
    """The documents written for each batch in turn (prepared as the sending queue does)."""
    exporter = create(factory, {"output_destination": "stdout", **config})
    await exporter.start(NopHost())
    capsys.readouterr()
    out = []
    for data in batches:
        await exporter.export(exporter.prepare(data))
        out.append([check_document(line) for line in capsys.readouterr().out.splitlines()])
    return out


def cumulative(name: str, value: float, t: int, monotonic: bool = True, start: int = START_NS) -> Metric:
    return sum_metric(name, value, attributes={"server": "a"}, start=start, time=t, monotonic=monotonic)


async def test_gauge_without_otellib_dimension(capsys) -> None:
    """Collector: the value as is, and (when the scope has a name) an `OTelLib` label and dimension.
    Ours: the value as is; no `OTelLib` (the reference sample's dimensions stay exact)."""
    [[document]] = await documents({}, capsys, metrics_data(gauge("lag", 7, attributes={"server": "a"})))
    assert document["lag"] == 7
    assert "OTelLib" not in document
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["server"]]


async def test_monotonic_cumulative_sum_as_deltas_with_resets(capsys) -> None:
    """Collector: deltas; a decrease sends the current value. Ours: the same (the value counted since
    the reset)."""
    batches = [metrics_data(cumulative("events", v, NOW_NS + i * MINUTE)) for i, v in enumerate((10, 15, 3))]
    sent = await documents({"retain_initial_value_of_delta_metric": False}, capsys, *batches)
    assert [[d["events"] for d in docs] for docs in sent] == [[], [5], [3]]


async def test_non_monotonic_cumulative_sum_as_values(capsys) -> None:
    """Collector: every cumulative sum becomes deltas, up-down counters too (a queue size of 10 then 7
    is sent as -3). Ours: an up-down counter is a level, sent as it is, first point included."""
    batches = [
        metrics_data(cumulative("queue.size", v, NOW_NS + i * MINUTE, monotonic=False)) for i, v in enumerate((10, 7))
    ]
    sent = await documents({}, capsys, *batches)
    assert [[d["queue.size"] for d in docs] for docs in sent] == [[10], [7]]


async def test_delta_sum_as_is(capsys) -> None:
    """Collector and ours: a delta sum is sent as it is."""
    metric = sum_metric("events", 4, attributes={"server": "a"}, temporality=DELTA)
    [[document]] = await documents({}, capsys, metrics_data(metric))
    assert document["events"] == 4


def histogram(counts: list[int], total: float, t: int) -> Metric:
    point = testing.histogram_point(counts, [10.0, 100.0], total, {"server": "a"}, time=t, min=1.0, max=150.0)
    return testing.histogram("latency", point, unit="ms")


async def test_cumulative_histogram_as_delta_distribution(capsys) -> None:
    """Collector: the statistic set {Count, Sum, Min, Max} of the point as received, cumulative ones
    cumulative (no delta for histograms). Ours: the window's increase, with Values/Counts (so
    CloudWatch has percentiles) and statistics that agree."""
    first, second = histogram([1, 2, 0], 60.0, NOW_NS), histogram([1, 5, 1], 450.0, NOW_NS + MINUTE)
    sent = await documents(
        {"retain_initial_value_of_delta_metric": False}, capsys, metrics_data(first), metrics_data(second)
    )
    assert sent[0] == []
    value = sent[1][0]["latency"]
    assert (value["Count"], value["Sum"]) == (4, 390.0)
    assert value["Counts"] == [3.0, 1.0] and value["Values"][0] == 55.0  # (10, 100] at its midpoint


def exponential(buckets: int, t: int, temporality: testing.AggregationTemporality) -> Metric:
    point = testing.exponential_histogram_point(
        3, [1] * buckets, float(buckets), {"server": "a"}, time=t, min=1.0, max=9.0
    )
    return testing.exponential_histogram("size", point, temporality=temporality, unit="By")


async def test_exponential_histogram_merged_into_one_member(capsys) -> None:
    """Collector: Values/Counts per bucket, more than 100 buckets split over several log events (Sum
    in the first only); cumulative ones sent cumulative. Ours: neighbouring buckets merged to at most
    100 values in one member with every statistic; cumulative ones as deltas (next test file)."""
    [[document]] = await documents({}, capsys, metrics_data(exponential(150, NOW_NS, DELTA)))
    value = document["size"]
    assert len(value["Values"]) <= 100 and value["Count"] == 150 and sum(value["Counts"]) == 150
    assert value["Sum"] == 150.0


async def test_cumulative_exponential_histogram_first_point_primes(capsys) -> None:
    """Collector: a cumulative exponential histogram is sent cumulative, every time. Ours: the same
    temporality rule as explicit histograms (first point primes with retain_initial_value: false)."""
    batches = [metrics_data(exponential(n, NOW_NS + i * MINUTE, CUMULATIVE)) for i, n in enumerate((3, 5))]
    sent = await documents({"retain_initial_value_of_delta_metric": False}, capsys, *batches)
    assert sent[0] == [] and sent[1][0]["size"]["Count"] == 2


def test_summary_is_refused_where_it_enters() -> None:
    """Collector: a Summary becomes the statistic set (Min/Max from the 0 and 1 quantiles;
    `detailed_metrics` sends each quantile). Ours: the SDK's data model has no Summary, so the OTLP
    receiver drops it, counted and said in the partial-success answer; nothing reaches the exporter."""
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    scope.metrics.add(name="rpc.duration").summary.data_points.add(count=2, sum=3.0, time_unix_nano=NOW_NS)
    result = decode(request)
    assert result.rejected == {"Summary metrics are not supported": 1}
    assert result.data.resource_metrics == []


async def test_first_point_of_a_counter(capsys) -> None:
    """Collector: the first point of a cumulative series only primes the delta (dropped) unless
    retain_initial_value_of_delta_metric: true. Ours: that key gives the Collector's behaviour either
    way; unset, the first point is sent when its start time shows the counter began after the
    collector started (nothing of it can have been sent before), else dropped."""
    started_before = metrics_data(cumulative("events", 10, NOW_NS))
    later = time.time_ns() + MINUTE  # after the exporter (made below) started
    born_later = metrics_data(cumulative("events.new", 4, later + MINUTE, start=later))
    for option, expected in ((None, [[], [4]]), (False, [[], []]), (True, [[10], [4]])):
        config = {} if option is None else {"retain_initial_value_of_delta_metric": option}
        sent = await documents(config, capsys, started_before, born_later)
        assert [[next(v for k, v in d.items() if k.startswith("events")) for d in docs] for docs in sent] == expected


async def test_no_version_member_and_aws_without_directives(capsys) -> None:
    """Collector (version "1"): a `"Version": "1"` member, and no `_aws` at all when no metric of the
    event is declared. Ours: no `Version` member (not in the EMF specification), and `_aws` with an
    empty directive list, which the schema accepts and CloudWatch extracts nothing from."""
    config = {"metric_declarations": [{"dimensions": [["server"]], "metric_name_selectors": ["^other$"]}]}
    [[document]] = await documents(config, capsys, metrics_data(gauge("lag", 1, attributes={"server": "a"})))
    assert "Version" not in document
    assert document["_aws"]["CloudWatchMetrics"] == []
