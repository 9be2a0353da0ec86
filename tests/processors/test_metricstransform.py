"""metricstransform: a Collector config runs as is on the rename/rescale/attributes code."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from collector.metrics import iter_metrics
from collector.testing import create, data_points, gauge, metrics_by_name, metrics_data, number_point
from processors.metricstransform import MetricsTransformConfig, factory


def test_update_renames_and_runs_operations_in_order():
    processor = create(
        factory,
        {
            "transforms": [
                {
                    "include": r"^debezium\.streaming\.(.*)$",
                    "match_type": "regexp",
                    "action": "update",
                    "new_name": "cdc.${1}",
                    "operations": [
                        {"action": "add_label", "new_label": "team", "new_value": "data"},
                        {
                            "action": "update_label",
                            "label": "server",
                            "new_label": "DBServerName",
                            "value_actions": [{"value": "inv", "new_value": "inventory"}],
                        },
                        {"action": "delete_label_value", "label": "context", "label_value": "snapshot"},
                        {"action": "experimental_scale_value", "experimental_scale": 0.001},
                    ],
                }
            ]
        },
    )
    out = processor.process(
        metrics_data(
            gauge(
                "debezium.streaming.MilliSecondsBehindSource",
                number_point(2500, {"server": "inv", "context": "streaming"}),
                number_point(9, {"server": "inv", "context": "snapshot"}),
            ),
            gauge("other", number_point(1, {"server": "inv"})),
        )
    )
    metrics = metrics_by_name(out)
    assert list(metrics) == ["cdc.MilliSecondsBehindSource", "other"]
    (lag,) = metrics["cdc.MilliSecondsBehindSource"].data.data_points
    assert lag.value == 2.5
    assert lag.attributes == {"DBServerName": "inventory", "context": "streaming", "team": "data"}
    assert metrics["other"].data.data_points[0].attributes == {"server": "inv"}


def test_insert_keeps_the_original_and_adds_a_changed_copy():
    processor = create(
        factory,
        {
            "transforms": [
                {
                    "include": "lag_ms",
                    "action": "insert",
                    "new_name": "lag_s",
                    "operations": [{"action": "experimental_scale_value", "experimental_scale": 0.001}],
                },
                {
                    "include": "lag_s",
                    "action": "update",
                    "operations": [{"action": "add_label", "new_label": "u", "new_value": "s"}],
                },
            ]
        },
    )
    out = processor.process(metrics_data(gauge("lag_ms", 1500)))
    assert [(m.name, m.data.data_points[0].value) for m in iter_metrics(out)] == [("lag_ms", 1500), ("lag_s", 1.5)]
    assert [p.attributes for p in data_points(out)] == [{}, {"u": "s"}]  # later transforms see earlier results


def test_rename_conflict_is_refused_as_in_rename():
    processor = create(factory, {"transforms": [{"include": "a", "action": "update", "new_name": "b"}]})
    out = processor.process(metrics_data(gauge("a", 1, unit="ms"), gauge("b", 2, unit="s")))
    assert [(m.name, m.unit) for m in iter_metrics(out)] == [("b", "s")]
    labels = {"component": "metricstransform", "reason": "rename_conflict"}
    assert processor.settings.telemetry.value("collector_dropped_metric_points", **labels) == 1


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ({"include": "a", "action": "insert"}, "needs new_name"),
        ({"include": "a", "action": "combine", "new_name": "b"}, "action 'combine' is not supported: aggregation"),
        (
            {"include": "a", "action": "update", "operations": [{"action": "aggregate_labels"}]},
            "action .aggregate_labels. is not supported: aggregation",
        ),
        ({"include": "a", "action": "update", "operations": [{"action": "add_label", "new_label": "x"}]}, "new_value"),
        ({"include": "a", "action": "update", "new_name": "$1"}, "match_type: regexp"),
    ],
)
def test_unsupported_or_incomplete_transforms_are_refused(transform, message):
    with pytest.raises(ValidationError, match=message):
        MetricsTransformConfig.model_validate({"transforms": [transform]})
