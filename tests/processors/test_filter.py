"""filter: include/exclude by name, resource and point attributes; filtered points are counted."""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource

from processors.filter import factory
from tests.processors.data import batch, gauge, metrics_by_name, number, points
from tests.processors.harness import build


def test_include_by_regexp_and_exclude_by_name():
    processor, _, telemetry = build(
        factory,
        {
            "metrics": {
                "include": {"match_type": "regexp", "metric_names": [r"^debezium\."]},
                "exclude": {"match_type": "strict", "metric_names": ["debezium.snapshot.RowsScanned"]},
            }
        },
    )
    out = processor.process(
        batch(
            gauge("debezium.streaming.Lag", number(1)),
            gauge("debezium.snapshot.RowsScanned", number(2), number(3)),
            gauge("jvm.heap", number(4)),
        )
    )
    assert list(metrics_by_name(out)) == ["debezium.streaming.Lag"]
    assert telemetry.value("otelcol_processor_dropped_metric_points", processor="filter/test") == 3


def test_points_are_kept_or_dropped_by_attribute_values():
    processor, _, _ = build(
        factory,
        {"metrics": {"exclude": {"match_type": "regexp", "attributes": [{"key": "context", "value": "^snap"}]}}},
    )
    out = processor.process(
        batch(gauge("lag", number(1, {"context": "streaming"}), number(2, {"context": "snapshot"}), number(3)))
    )
    assert [p.value for p in points(out)] == [1, 3]


def test_resource_attributes_and_an_empty_result():
    processor, _, _ = build(
        factory, {"metrics": {"include": {"resource_attributes": [{"key": "service.name", "value": "connect"}]}}}
    )
    assert processor.process(batch(gauge("m", number(1)))).resource_metrics == []
    kept = processor.process(batch(gauge("m", number(1)), resource=Resource({"service.name": "connect"})))
    assert [p.value for p in points(kept)] == [1]


def test_no_conditions_pass_everything_through():
    processor, _, _ = build(factory, {})
    data = batch(gauge("m", number(1)))
    assert processor.process(data) is data
