"""filter: include/exclude by name, resource and point attributes; filtered points are counted."""

from __future__ import annotations

from opentelemetry.sdk.resources import Resource

from collector.testing import create, data_points, gauge, metrics_by_name, metrics_data, number_point
from processors.filter import factory


def test_include_by_regexp_and_exclude_by_name():
    processor = create(
        factory,
        {
            "metrics": {
                "include": {"match_type": "regexp", "metric_names": [r"^debezium\."]},
                "exclude": {"match_type": "strict", "metric_names": ["debezium.snapshot.RowsScanned"]},
            }
        },
    )
    out = processor.process(
        metrics_data(
            gauge("debezium.streaming.Lag", 1),
            gauge("debezium.snapshot.RowsScanned", 2, 3),
            gauge("jvm.heap", 4),
        )
    )
    assert list(metrics_by_name(out)) == ["debezium.streaming.Lag"]
    assert processor.settings.telemetry.value("otelcol_processor_dropped_metric_points", processor="filter") == 3


def test_points_are_kept_or_dropped_by_attribute_values():
    processor = create(
        factory,
        {"metrics": {"exclude": {"match_type": "regexp", "attributes": [{"key": "context", "value": "^snap"}]}}},
    )
    out = processor.process(
        metrics_data(
            gauge("lag", number_point(1, {"context": "streaming"}), number_point(2, {"context": "snapshot"}), 3)
        )
    )
    assert [p.value for p in data_points(out)] == [1, 3]


def test_resource_attributes_and_an_empty_result():
    processor = create(
        factory, {"metrics": {"include": {"resource_attributes": [{"key": "service.name", "value": "connect"}]}}}
    )
    assert processor.process(metrics_data(gauge("m", 1))).resource_metrics == []
    kept = processor.process(metrics_data(gauge("m", 1), resource=Resource({"service.name": "connect"})))
    assert [p.value for p in data_points(kept)] == [1]


def test_no_conditions_pass_everything_through():
    processor = create(factory, {})
    data = metrics_data(gauge("m", 1))
    assert processor.process(data) is data
