"""EMF CloudWatch accepts, whatever reaches the exporter: hostile metric names, label keys and values,
histogram points whose statistics contradict each other, cumulative exponential histograms. Every line
is checked with jsonschema against the EMF schema plus CloudWatch's documented name and dimension rules
(tests/awsexporters/emf_rules.py); every point is either sent or counted as dropped."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector import testing
from collector.testing import NOW_NS, NopHost, NumberDataPoint, create, dropped_points, gauge, metrics_data
from exporters.awscloudwatch import factory as cloudwatch_factory
from exporters.awsemf import factory
from exporters.awsemf.encoder import EmfEncoder
from tests.awsexporters.emf_rules import (
    check_directives,
    check_document,
    check_value,
    dimension_name_accepted,
    dimension_value_accepted,
    metric_name_accepted,
)

# Text a hostile or careless source may send: control characters, non-ASCII, blanks, a leading colon,
# the EMF metadata key, very long strings.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["", " ", "\t", ":ns", "_aws", "é", "a\x00b", "ok", "server", "x" * 251, "v" * 1100, "\x7f"]),
)
REASONS = (
    "invalid_metric_name",
    "invalid_dimension",
    "metric_name_is_label",
    "non_finite",
    "value_out_of_range",
    "too_many_dimensions",
)


def lines(exporter, data) -> list[str]:
    """The documents the exporter writes for one batch (prepared as the sending queue does)."""
    return [event.message for event in exporter.encoder.encode(exporter.prepare(data))]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=st.lists(
        st.tuples(
            HOSTILE_TEXT,
            st.one_of(st.integers(-(10**6), 10**6), st.floats()),
            st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=4),
        ),
        max_size=60,
    ),
    declared=st.booleans(),
    rollup=st.sampled_from(["NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup"]),
    version=st.sampled_from(["1", "0"]),
)
def test_hostile_names_never_reach_cloudwatch(points, declared, rollup, version) -> None:
    """Each point is in exactly one valid document, or counted under a reason; no directive names a
    metric or dimension CloudWatch would refuse."""
    config = {"output_destination": "stdout", "dimension_rollup_option": rollup, "version": version}
    if declared:
        config["metric_declarations"] = [{"dimensions": [["server"], ["server", "ok"]], "metric_name_selectors": ["."]}]
    exporter = create(factory, config)
    data = metrics_data(*[gauge(name, value, attributes=attrs) for name, value, attrs in points])
    reserved = {"_aws"} if version == "1" else {"_aws", "Version", "Timestamp", "CloudWatchMetrics"}
    sent: Counter[str] = Counter()
    for line in lines(exporter, data):
        if version == "1":
            document = check_document(line)
            directives = document["_aws"]["CloudWatchMetrics"]
        else:
            document = json.loads(
                line, object_pairs_hook=lambda pairs: dict(pairs) if len({k for k, _ in pairs}) == len(pairs) else None
            )
            assert document is not None and document["Version"] == "0" and document["Timestamp"].isdigit()
            directives = document.get("CloudWatchMetrics", [])
            check_directives(document, directives)
        for key, value in document.items():
            if key not in reserved and isinstance(value, int | float):
                sent[key] += 1
        for directive in directives:
            for dims in directive["Dimensions"]:
                assert all(dimension_name_accepted(d) and dimension_value_accepted(document[d]) for d in dims)
    dropped = sum(dropped_points(exporter, reason) for reason in REASONS if reason != "invalid_dimension")
    assert sum(sent.values()) + dropped == len(points)
    refused_label = False
    for name, value, attrs in points:
        if not metric_name_accepted(name) or name in reserved:
            assert name not in sent
        elif abs(value) <= 2.0**360 and name not in attrs:  # sent: a refused label must have been counted
            refused_label |= any(
                not dimension_name_accepted(k) or not dimension_value_accepted(v[:1024])
                for k, v in attrs.items()
                if k not in reserved
            )
    if refused_label and not declared:
        assert dropped_points(exporter, "invalid_dimension") > 0


def test_reasons_for_names_cloudwatch_refuses() -> None:
    exporter = create(factory, {"output_destination": "stdout"})
    metrics = [
        gauge("", 1),
        gauge("   ", 2),
        gauge("n" * 256, 3),
        gauge("bell\x07", 4),
        gauge("_aws", 5),
        gauge("server", 6, attributes={"server": "a"}),  # would replace its own label
        gauge("latency", 7, attributes={"server": "a", "table": "café", ":private": "x", "blank": " ", "ok": "y"}),
    ]
    [document] = [check_document(line) for line in lines(exporter, metrics_data(*metrics))]
    assert dropped_points(exporter, "invalid_metric_name") == 5
    assert dropped_points(exporter, "metric_name_is_label") == 1
    assert dropped_points(exporter, "invalid_dimension") == 1
    assert document["latency"] == 7
    # Labels CloudWatch refuses as dimensions stay in the log event, but no dimension set names them.
    assert document["table"] == "café" and document[":private"] == "x" and document["blank"] == " "
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["ok", "server"]]


def test_points_without_attributes() -> None:
    """OTLP and the SDK may leave a point's attributes None rather than empty."""
    exporter = create(factory, {"output_destination": "stdout"})
    bare = gauge("up", NumberDataPoint(None, 0, NOW_NS, 1))  # None, as OTLP may send
    [line] = lines(exporter, metrics_data(bare, gauge("lag", 2)))
    document = check_document(line)
    assert (document["up"], document["lag"]) == (1, 2)
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]


def test_declared_set_naming_an_invalid_label_is_left_out() -> None:
    config = {
        "output_destination": "stdout",
        "metric_declarations": [{"dimensions": [["table"], ["server"]], "metric_name_selectors": ["^lag$"]}],
    }
    exporter = create(factory, config)
    [line] = lines(exporter, metrics_data(gauge("lag", 1, attributes={"server": "s", "table": "naïve"})))
    assert check_document(line)["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["server"]]
    assert dropped_points(exporter, "invalid_dimension") == 1


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(0, 1000), min_size=1, max_size=8),
    total=st.one_of(st.none(), st.floats(-1e9, 1e9)),
    low=st.one_of(st.none(), st.floats(allow_nan=True)),
    high=st.one_of(st.none(), st.floats(allow_nan=True)),
)
def test_histogram_statistics_always_agree(counts, total, low, high) -> None:
    """Whatever min/max/sum a point claims (a delta window's are unknown, a source's may be wrong), the
    EMF value has Min <= Sum/Count <= Max and every value within [Min, Max]."""
    bounds = [float(10 * i) for i in range(1, len(counts))]
    drops: list[str] = []
    encoder = EmfEncoder(factory.config_model.model_validate({}), lambda reason, n: drops.append(reason))
    value = encoder._histogram_value(testing.histogram_point(counts, bounds, total, min=low, max=high))
    if sum(counts) == 0:
        assert value is None and not drops  # nothing observed: nothing to send, nothing lost
    elif value is None:
        assert drops == ["non_finite"]
    else:
        check_value(json.loads(json.dumps(value)))


async def test_cumulative_histograms_keep_agreeing_statistics_after_the_delta(capsys) -> None:
    exporter = create(factory, {"output_destination": "stdout", "retain_initial_value_of_delta_metric": True})
    await exporter.start(NopHost())
    bounds = [10.0, 100.0]
    first = testing.histogram_point([5, 0, 0], bounds, 45.0, min=1.0, max=9.0)
    # The next window's observations are all in (10, 100] near 100: its mean (99) is above the
    # bucket's midpoint (55), the value an unknown max would otherwise be taken from.
    second = testing.histogram_point([5, 10, 0], bounds, 45.0 + 990.0, min=1.0, max=99.5, time=NOW_NS + 60 * 10**9)
    documents = []
    for point in (first, second):
        metric = testing.histogram("latency", point, unit="ms")
        await exporter.export(exporter.prepare(metrics_data(metric)))
        documents += [check_document(line) for line in capsys.readouterr().out.splitlines()]
    [_, delta] = documents
    value = delta["latency"]
    assert value["Count"] == 10 and value["Sum"] == 990.0
    assert value["Min"] <= 99.0 <= value["Max"]


def exponential(positive: list[int], offset: int, scale: int, zero: int, total: float, t: int) -> testing.Metric:
    point = testing.exponential_histogram_point(
        scale, positive, total, {"server": "a"}, positive_offset=offset, zero_count=zero, time=t
    )
    return testing.exponential_histogram("size", point, unit="By")


async def test_cumulative_exponential_histograms_are_sent_as_deltas(capsys) -> None:
    """Same rule as explicit histograms: the first point primes, later ones are the window's increase,
    also across a scale change (the SDK halves the scale as the range grows)."""
    exporter = create(factory, {"output_destination": "stdout", "retain_initial_value_of_delta_metric": False})
    await exporter.start(NopHost())
    minute = 60 * 10**9
    batches = [
        exponential([1, 2, 3], offset=0, scale=1, zero=1, total=20.0, t=NOW_NS),  # primes only
        exponential([1, 4, 3, 5], offset=0, scale=1, zero=1, total=50.0, t=NOW_NS + minute),
        # scale 0: index i holds scale-1 buckets 2i and 2i+1 -> cumulative [1+4, 3+5+2] plus 2 more
        exponential([5, 10], offset=0, scale=0, zero=3, total=70.0, t=NOW_NS + 2 * minute),
        # fewer observations than before: a restarted source; its own counts are the window's
        exponential([0, 1], offset=0, scale=0, zero=0, total=3.0, t=NOW_NS + 3 * minute),
    ]
    documents = []
    for metric in batches:
        await exporter.export(exporter.prepare(metrics_data(metric)))
        documents += [check_document(line) for line in capsys.readouterr().out.splitlines()]
    assert len(documents) == 3
    first, second, after_reset = (d["size"] for d in documents)
    # 2 more in bucket 1 and 5 in the new bucket 3, each at its midpoint (base sqrt(2) at scale 1)
    assert (first["Count"], first["Sum"]) == (7, 30.0)
    root2 = 2**0.5
    assert first["Values"] == pytest.approx([(root2 + 2) / 2, (2 * root2 + 4) / 2]) and first["Counts"] == [2.0, 5.0]
    # 2 more zeros and 2 more in scale-0 bucket 1 (2, 4]: the previous buckets brought down to scale 0
    assert (second["Count"], second["Sum"]) == (4, 20.0)
    assert second["Values"] == [0.0, 3.0] and second["Counts"] == [2.0, 2.0]
    assert (after_reset["Count"], after_reset["Sum"], after_reset["Counts"]) == (1, 3.0, [1.0])


async def test_version_0_writes_emf_without_aws(capsys) -> None:
    exporter = create(factory, {"output_destination": "stdout", "version": "0", "namespace": "NS"})
    await exporter.start(NopHost())
    metrics = [
        gauge("lag", 5, attributes={"server": "a", "Version": "x"}),
        gauge("CloudWatchMetrics", 1, attributes={"server": "a"}),
    ]
    await exporter.export(exporter.prepare(metrics_data(*metrics)))
    [line] = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert "_aws" not in document
    assert document["Version"] == "0" and document["Timestamp"] == str(NOW_NS // 10**6)
    assert document["CloudWatchMetrics"] == [
        {"Namespace": "NS", "Dimensions": [["server"]], "Metrics": [{"Name": "lag", "Unit": "None"}]}
    ]
    check_directives(document, document["CloudWatchMetrics"])
    assert dropped_points(exporter, "invalid_metric_name") == 1  # a metric may not replace the format's members


async def test_disable_metric_extraction_keeps_the_log_only(capsys) -> None:
    exporter = create(factory, {"output_destination": "stdout", "disable_metric_extraction": True})
    await exporter.start(NopHost())
    await exporter.export(exporter.prepare(metrics_data(gauge("lag", 5, attributes={"server": "a"}))))
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) == {"server": "a", "lag": 5}


async def test_json_encoded_attribute_values_become_structures(capsys) -> None:
    config = {"output_destination": "stdout", "parse_json_encoded_attr_values": ["kubernetes", "broken"]}
    exporter = create(factory, config)
    await exporter.start(NopHost())
    attrs = {"kubernetes": '{"pod": "p-1", "labels": {"app": "connect"}}', "broken": "{not json", "server": "a"}
    await exporter.export(exporter.prepare(metrics_data(gauge("lag", 5, attributes=attrs))))
    [line] = capsys.readouterr().out.splitlines()
    document = check_document(line)
    assert document["kubernetes"] == {"pod": "p-1", "labels": {"app": "connect"}}
    assert document["broken"] == "{not json"  # not JSON: kept as the text, as the Collector does
    # A structure cannot be a dimension: the set of every label keeps the string ones.
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["broken", "server"]]


def test_putmetricdata_datums_follow_the_same_rules() -> None:
    drops: list[str] = []
    exporter = create(cloudwatch_factory, {"namespace": "NS", "region": "eu-west-1"})
    exporter.builder.on_drop = lambda reason, n: drops.append(reason)
    metrics = [gauge("", 1), gauge("lag", 2, attributes={"server": "a", "table": "naïve", "blank": "", ":x": "y"})]
    [datum] = exporter.builder.datums(metrics_data(*metrics))
    assert datum["Dimensions"] == [{"Name": "server", "Value": "a"}]
    assert sorted(drops) == ["invalid_dimension", "invalid_metric_name"]
    assert math.isfinite(datum["Value"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=st.lists(
        st.tuples(HOSTILE_TEXT, st.floats(), st.dictionaries(HOSTILE_TEXT, HOSTILE_TEXT, max_size=4)), max_size=40
    )
)
def test_hostile_names_never_reach_putmetricdata(points) -> None:
    """The same rules for PutMetricData datums: each point is a valid datum or counted."""
    drops: list[str] = []
    exporter = create(cloudwatch_factory, {"namespace": "NS", "region": "eu-west-1"})
    exporter.builder.on_drop = lambda reason, n: drops.extend([reason] * n)
    datums = exporter.builder.datums(
        metrics_data(*[gauge(name, value, attributes=attrs) for name, value, attrs in points])
    )
    for datum in datums:
        assert metric_name_accepted(datum["MetricName"])
        assert math.isfinite(datum["Value"]) and abs(datum["Value"]) <= 2.0**360
        assert len(datum["Dimensions"]) <= 30
        for dimension in datum["Dimensions"]:
            assert dimension_name_accepted(dimension["Name"]) and dimension_value_accepted(dimension["Value"])
    assert len(datums) + len([d for d in drops if d != "invalid_dimension"]) == len(points)
