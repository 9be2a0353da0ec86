"""The example plugin's own tests, written with the collector's test kit as docs/plugins.md shows."""

import asyncio

import pytest
from collector_static_receiver import factory
from pydantic import ValidationError

from collector.testing import NopHost, RecordingConsumer, create, data_points, metrics_by_name

METRICS = [
    {"name": "lag", "type": "gauge", "unit": "ms", "value": 1500, "attributes": {"server": "salesdb"}},
    {"name": "events", "type": "sum", "unit": "{event}", "value": 10, "increment": 5},
]


async def test_a_gauge_repeats_its_value_and_a_sum_grows_by_its_increment():
    receiver = create(factory, {"metrics": METRICS})
    first, second = await receiver.scrape(), await receiver.scrape()
    assert [p.value for p in data_points(first, "lag")] == [1500] == [p.value for p in data_points(second, "lag")]
    assert data_points(first, "lag")[0].attributes == {"server": "salesdb"}
    assert [p.value for p in data_points(first, "events") + data_points(second, "events")] == [10, 15]
    events = metrics_by_name(second)["events"]
    assert events.unit == "{event}" and events.data.is_monotonic
    assert data_points(first, "events")[0].start_time_unix_nano == data_points(second, "events")[0].start_time_unix_nano


async def test_started_with_a_host_it_pushes_on_its_schedule():
    consumer = RecordingConsumer()
    config = {"metrics": METRICS, "collection_interval": "50ms", "initial_delay": "0s"}
    receiver = create(factory, config, consumer=consumer)
    await receiver.start(NopHost())
    try:
        while len(consumer.batches) < 2:
            await asyncio.sleep(0.01)
    finally:
        await receiver.shutdown()
    assert consumer.metric_names()[:4] == ["lag", "events", "lag", "events"]


def test_a_config_without_metrics_is_refused():
    with pytest.raises(ValidationError, match="metrics"):
        create(factory, {"metrics": []})
