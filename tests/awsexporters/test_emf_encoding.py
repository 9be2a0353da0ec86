"""EMF documents as the exporter writes them (stdout destination): schema, limits, units, deltas."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector import testing
from exporters.awsemf import factory
from tests.awsexporters.emf_rules import check_document

REFERENCE = {
    "namespace": "MSK_Connect",
    "output_destination": "stdout",
    "metric_declarations": [{"dimensions": [["DBServerName"]], "metric_name_selectors": ["^MilliSecondBehindSource$"]}],
}


async def emitted(exporter, capsys, *batches) -> list[dict]:
    """Every document the exporter printed for these batches (prepared as the sending queue does)."""
    await exporter.start(testing.NopHost())
    capsys.readouterr()
    for data in batches:
        await exporter.export(exporter.prepare(data))
    return [check_document(line) for line in capsys.readouterr().out.splitlines()]


async def test_reference_sample_metric(capsys) -> None:
    exporter = testing.create(factory, REFERENCE)
    metric = testing.gauge("MilliSecondBehindSource", 1234, attributes={"DBServerName": "inventory-db"}, unit="ms")
    [document] = await emitted(exporter, capsys, testing.metrics_data(metric))
    assert document["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "MSK_Connect",
            "Dimensions": [["DBServerName"]],
            "Metrics": [{"Name": "MilliSecondBehindSource", "Unit": "Milliseconds"}],
        }
    ]
    assert document["DBServerName"] == "inventory-db"
    assert document["MilliSecondBehindSource"] == 1234


async def test_undeclared_metrics_stay_in_the_log_only(capsys) -> None:
    exporter = testing.create(factory, REFERENCE)
    metrics = [
        testing.gauge("MilliSecondBehindSource", 5, attributes={"DBServerName": "a"}),
        testing.gauge("QueueTotalCapacity", 8192, attributes={"DBServerName": "a"}),
    ]
    [document] = await emitted(exporter, capsys, testing.metrics_data(*metrics))
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert [m["Name"] for m in directive["Metrics"]] == ["MilliSecondBehindSource"]
    assert document["QueueTotalCapacity"] == 8192


async def test_1500_metrics_become_documents_of_at_most_100(capsys) -> None:
    exporter = testing.create(factory, {"namespace": "Big", "output_destination": "stdout"})
    t = 1_700_000_000_000_000_000
    metrics = [testing.gauge(f"metric_{i:04d}", i, attributes={"server": "s1"}, time=t) for i in range(1500)]
    documents = await emitted(exporter, capsys, testing.metrics_data(*metrics))
    directives = [d for doc in documents for d in doc["_aws"]["CloudWatchMetrics"]]
    assert len(directives) >= 15
    assert all(d["Dimensions"] == [["server"]] for d in directives)
    values = sorted(doc[m["Name"]] for doc in documents for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"])
    assert values == list(range(1500))  # every value present exactly once


async def test_non_finite_values_are_dropped_and_counted(capsys) -> None:
    exporter = testing.create(factory, {"output_destination": "stdout"})
    metrics = [
        testing.gauge("ok", 1.5),
        testing.gauge("nan", math.nan),
        testing.gauge("inf", math.inf),
        testing.gauge("ninf", -math.inf),
    ]
    [document] = await emitted(exporter, capsys, testing.metrics_data(*metrics))
    assert "ok" in document and not {"nan", "inf", "ninf"} & set(document)
    assert testing.dropped_points(exporter, "non_finite") == 3


async def test_dimension_limits(capsys) -> None:
    exporter = testing.create(factory, {"output_destination": "stdout"})
    wide = {f"k{i:02d}": "v" for i in range(31)}
    long_value = "x" * 2000
    documents = await emitted(
        exporter,
        capsys,
        testing.metrics_data(
            testing.gauge("wide", 1, attributes=wide), testing.gauge("long", 2, attributes={"db": long_value})
        ),
    )
    by_metric = {name: doc for doc in documents for name in ("wide", "long") if name in doc}
    assert by_metric["wide"]["_aws"]["CloudWatchMetrics"] == []  # 31 keys: kept in the log only
    assert testing.dropped_points(exporter, "too_many_dimensions") == 1
    assert by_metric["long"]["db"] == "x" * 1024
    assert by_metric["long"]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["db"]]


async def test_units_are_cloudwatch_names_and_descriptors_override(capsys) -> None:
    config = {
        "output_destination": "stdout",
        "metric_descriptors": [{"metric_name": "queue", "unit": "Count"}, {"metric_name": "lag", "unit": "Seconds"}],
    }
    exporter = testing.create(factory, config)
    metrics = [
        testing.gauge("lag", 1, unit="ms"),
        testing.gauge("size", 2, unit="By"),
        testing.gauge("ratio", 3, unit="1"),
        testing.gauge("events", 4, unit="{event}"),
        testing.gauge("rate", 5, unit="By/s"),
        testing.gauge("queue", 6, unit=""),
    ]
    [document] = await emitted(exporter, capsys, testing.metrics_data(*metrics))
    units = {m["Name"]: m["Unit"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert units == {
        "lag": "Milliseconds",  # a descriptor replaces a unit only with overwrite: true
        "size": "Bytes",
        "ratio": "None",
        "events": "Count",
        "rate": "Bytes/Second",
        "queue": "Count",
    }


async def test_cumulative_sums_are_sent_as_deltas(capsys) -> None:
    exporter = testing.create(factory, {"output_destination": "stdout"})
    first = await emitted(
        exporter, capsys, testing.metrics_data(testing.sum_metric("events", 10, attributes={"server": "a"}))
    )
    assert first == []  # the first cumulative point only primes the tracker
    await exporter.export(
        exporter.prepare(testing.metrics_data(testing.sum_metric("events", 25, attributes={"server": "a"})))
    )
    await exporter.export(
        exporter.prepare(testing.metrics_data(testing.sum_metric("events", 26, attributes={"server": "a"})))
    )
    documents = [check_document(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["events"] for d in documents] == [15, 1]


async def test_histograms_as_values_and_counts_within_100(capsys) -> None:
    exporter = testing.create(factory, {"output_destination": "stdout"})
    small = testing.histogram(
        "latency",
        testing.histogram_point([1, 0, 3, 2], [10.0, 20.0, 50.0], 200.0, min=0.5, max=900.0),
        temporality=testing.DELTA,
        unit="ms",
    )
    bounds = [float(i) for i in range(1, 250)]
    wide = testing.histogram(
        "wide",
        testing.histogram_point([1] * 250, bounds, 31_000.0, min=0.5, max=900.0),
        temporality=testing.DELTA,
        unit="ms",
    )
    [document] = await emitted(exporter, capsys, testing.metrics_data(small, wide))
    assert document["latency"]["Values"] == [pytest.approx(v) for v in (10.0, 35.0, 50.0)]
    assert document["latency"]["Counts"] == [1, 3, 2]
    assert (document["latency"]["Count"], document["latency"]["Sum"]) == (6, 200.0)
    assert len(document["wide"]["Values"]) <= 100
    assert sum(document["wide"]["Counts"]) == 250


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("NoDimensionRollup", [["db", "server"]]),
        ("SingleDimensionRollupOnly", [["db", "server"], ["db"], ["server"]]),
        ("SingleDimensionRollup", [["db", "server"], ["db"], ["server"]]),  # the spelling accepted before
        ("ZeroAndSingleDimensionRollup", [["db", "server"], [], ["db"], ["server"]]),
    ],
)
async def test_dimension_rollup(capsys, option: str, expected: list[list[str]]) -> None:
    exporter = testing.create(factory, {"output_destination": "stdout", "dimension_rollup_option": option})
    [document] = await emitted(
        exporter, capsys, testing.metrics_data(testing.gauge("m", 1, attributes={"server": "s", "db": "d"}))
    )
    assert document["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == expected


async def test_label_matchers_select_by_value(capsys) -> None:
    config = {
        "output_destination": "stdout",
        "metric_declarations": [
            {
                "dimensions": [["server"]],
                "metric_name_selectors": ["^lag$"],
                "label_matchers": [{"label_names": ["context", "server"], "regex": "^streaming;prod-"}],
            }
        ],
    }
    exporter = testing.create(factory, config)
    metrics = [
        testing.gauge("lag", 1, attributes={"context": "streaming", "server": "prod-1"}),
        testing.gauge("lag", 2, attributes={"context": "snapshot", "server": "prod-1"}),
    ]
    documents = await emitted(exporter, capsys, testing.metrics_data(*metrics))
    with_directive = [d["lag"] for d in documents if d["_aws"]["CloudWatchMetrics"]]
    assert with_directive == [1]


async def test_storage_resolution_and_placeholders(tmp_path) -> None:
    path = tmp_path / "agent" / "emf.log"  # the directory is created
    config = {"output_destination": "file", "file_path": str(path), "storage_resolution": 1}
    exporter = testing.create(factory, config)
    await exporter.start(testing.NopHost())
    await exporter.export(testing.metrics_data(testing.gauge("m", 1)))
    await exporter.shutdown()
    [line] = path.read_text().splitlines()
    document = check_document(line)
    assert document["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [
        {"Name": "m", "Unit": "None", "StorageResolution": 1}
    ]


def test_placeholders_read_resource_attributes() -> None:
    from exporters.awsemf.encoder import fill_placeholders

    resource = {"aws.ecs.cluster.name": "prod", "service.name": "connect"}
    assert fill_placeholders("/aws/{ClusterName}/{ServiceName}/{TaskId}", resource) == "/aws/prod/connect/undefined"


def test_config_errors_name_the_problem() -> None:
    from pydantic import ValidationError

    from exporters.awsemf.config import AwsEmfConfig

    with pytest.raises(ValidationError, match="file_path"):
        AwsEmfConfig.model_validate({"output_destination": "file"})
    with pytest.raises(ValidationError, match="not a CloudWatch unit"):
        AwsEmfConfig.model_validate({"metric_descriptors": [{"metric_name": "m", "unit": "ms"}]})
    with pytest.raises(ValidationError, match="invalid regular expression"):
        AwsEmfConfig.model_validate({"metric_declarations": [{"metric_name_selectors": ["("]}]})
    with pytest.raises(ValidationError, match="storage_resolution"):
        AwsEmfConfig.model_validate({"storage_resolution": 5})
    assert json.dumps(AwsEmfConfig().dimension_rollup_option) == '"NoDimensionRollup"'


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    points=st.lists(
        st.tuples(
            st.sampled_from([f"metric_{i}" for i in range(150)]),
            st.one_of(st.integers(-(10**12), 10**12), st.floats(allow_nan=True, allow_infinity=True)),
            st.dictionaries(st.sampled_from(["server", "plugin", "table", "x" * 251]), st.text(max_size=5), max_size=3),
            st.integers(0, 2),
        ),
        max_size=400,
    ),
    rollup=st.sampled_from(["NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup"]),
)
def test_every_finite_value_is_sent_once_in_valid_documents(points, rollup) -> None:
    """Any mix of names, labels and timestamps: valid documents, every finite value exactly once."""
    from collections import Counter

    from exporters.awsemf.encoder import EmfEncoder

    config = factory.config_model.model_validate({"output_destination": "stdout", "dimension_rollup_option": rollup})
    encoder = EmfEncoder(config, lambda reason, n: None)
    base = 1_700_000_000_000
    metrics = [
        testing.gauge(name, value, attributes=attrs, time=(base + step) * 10**6) for name, value, attrs, step in points
    ]
    expected = Counter()
    for name, value, attrs, step in points:
        # A point whose metric is named like one of its labels is dropped (it would replace the label).
        if abs(value) <= 2.0**360 and name not in attrs:  # CloudWatch's range; False for NaN
            expected[(name, value, tuple(sorted(attrs.items())), base + step)] += 1
    sent = Counter()
    for event in encoder.encode(testing.metrics_data(*metrics)):
        document = check_document(event.message)
        timestamp = document["_aws"]["Timestamp"]
        labels = tuple(sorted((k, v) for k, v in document.items() if isinstance(v, str)))
        for key, value in document.items():
            if key != "_aws" and not isinstance(value, str):
                sent[(key, value, labels, timestamp)] += 1
    assert sent == expected


def test_histogram_without_sum_min_max_as_otlp_may_send_it() -> None:
    """The OTLP decoder leaves optional sum/min/max as None: estimated from the buckets instead."""
    from opentelemetry.sdk.metrics.export import HistogramDataPoint

    from common.aws.histogram import distribution

    point = HistogramDataPoint({}, 0, 1, 6, None, [1, 0, 3, 2], [10.0, 20.0, 50.0], None, None)
    dist = distribution(point)
    assert dist is not None
    assert dist.values == [10.0, 35.0, 50.0] and dist.counts == [1, 3, 2]
    assert (dist.min, dist.max, dist.sum) == (10.0, 50.0, 10.0 + 3 * 35.0 + 2 * 50.0)
