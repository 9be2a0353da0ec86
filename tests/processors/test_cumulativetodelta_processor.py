"""The cumulativetodelta processor: Collector keys, selection, NaN drops counted in telemetry."""

from __future__ import annotations

import math

import pytest
from opentelemetry.sdk.metrics.export import AggregationTemporality
from pydantic import ValidationError

from collector.testing import RecordingConsumer, create, metrics_by_name, metrics_data, number_point, sum_metric
from processors.cumulativetodelta import factory

S = 1_000_000_000


async def test_selected_counters_become_deltas_and_nan_points_are_counted():
    recorder = RecordingConsumer()
    processor = create(
        factory,
        {
            "include": {"match_type": "regexp", "metrics": [r"^debezium\."]},
            "exclude": {"match_type": "strict", "metrics": ["debezium.skip.events"]},
            "initial_value": "drop",
            "max_staleness": "10m",
        },
        consumer=recorder,
    )
    for t, value in ((2, 10.0), (3, 15.0), (4, math.nan)):
        await processor.consume(
            metrics_data(
                sum_metric("debezium.events", number_point(value, {}, start=S, time=t * S)),
                sum_metric("debezium.skip.events", number_point(value, {}, start=S, time=t * S)),
                sum_metric("jvm.gc.count", number_point(value, {}, start=S, time=t * S)),
            )
        )
    first, second, third = (metrics_by_name(b) for b in recorder.batches)
    assert "debezium.events" not in first  # initial_value drop
    assert second["debezium.events"].data.aggregation_temporality is AggregationTemporality.DELTA
    assert second["debezium.events"].data.data_points[0].value == 5.0
    for unconverted in ("debezium.skip.events", "jvm.gc.count"):
        assert second[unconverted].data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    assert "debezium.events" not in third
    assert (
        processor.settings.telemetry.value(
            "collector_dropped_metric_points", component="cumulativetodelta", reason="nan"
        )
        == 1
    )


def test_config_reads_durations_and_refuses_unknown_initial_values():
    assert factory.config_model.model_validate({"max_staleness": "5m"}).max_staleness == 300
    with pytest.raises(ValidationError, match="'auto', 'keep' or 'drop'"):
        factory.config_model.model_validate({"initial_value": "sometimes"})
