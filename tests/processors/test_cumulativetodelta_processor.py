"""The cumulativetodelta processor: Collector keys, selection, NaN drops counted in telemetry."""

from __future__ import annotations

import math

import pytest
from opentelemetry.sdk.metrics.export import AggregationTemporality
from pydantic import ValidationError

from processors.cumulativetodelta import factory
from tests.processors.data import batch, cumulative_sum, metrics_by_name, number
from tests.processors.harness import build

S = 1_000_000_000


async def test_selected_counters_become_deltas_and_nan_points_are_counted():
    processor, recorder, telemetry = build_processor()
    for t, value in ((2, 10.0), (3, 15.0), (4, math.nan)):
        await processor.consume(
            batch(
                cumulative_sum("debezium.events", number(value, {}, S, t * S)),
                cumulative_sum("debezium.skip.events", number(value, {}, S, t * S)),
                cumulative_sum("jvm.gc.count", number(value, {}, S, t * S)),
            )
        )
    first, second, third = (metrics_by_name(b) for b in recorder.batches)
    assert "debezium.events" not in first  # initial_value drop
    assert second["debezium.events"].data.aggregation_temporality is AggregationTemporality.DELTA
    assert second["debezium.events"].data.data_points[0].value == 5.0
    for unconverted in ("debezium.skip.events", "jvm.gc.count"):
        assert second[unconverted].data.aggregation_temporality is AggregationTemporality.CUMULATIVE
    assert "debezium.events" not in third
    assert telemetry.value("collector_dropped_metric_points", component="cumulativetodelta/test", reason="nan") == 1


def build_processor():
    return build(
        factory,
        {
            "include": {"match_type": "regexp", "metrics": [r"^debezium\."]},
            "exclude": {"match_type": "strict", "metrics": ["debezium.skip.events"]},
            "initial_value": "drop",
            "max_staleness": "10m",
        },
    )


def test_config_reads_durations_and_refuses_unknown_initial_values():
    assert factory.config_model.model_validate({"max_staleness": "5m"}).max_staleness == 300
    with pytest.raises(ValidationError, match="'auto', 'keep' or 'drop'"):
        factory.config_model.model_validate({"initial_value": "sometimes"})
