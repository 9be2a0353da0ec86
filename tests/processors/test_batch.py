"""batch: size, max size and timeout as in the Collector; order kept; nothing lost or duplicated."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.resources import Resource
from pydantic import ValidationError

from collector.metrics import count_points, iter_metrics, split
from collector.testing import (
    NopHost,
    RecordingConsumer,
    RefusingConsumer,
    create,
    data_points,
    gauge,
    metrics_data,
    number_point,
)
from processors.batch import BatchConfig, factory


def sent_values(recorder) -> list[tuple[str, object]]:
    return [(m.name, p.value) for b in recorder.batches for m in iter_metrics(b) for p in m.data.data_points]


async def test_sends_when_send_batch_size_is_reached_and_cuts_at_max_size():
    recorder = RecordingConsumer()
    processor = create(factory, {"send_batch_size": 3, "send_batch_max_size": 4, "timeout": "1h"}, consumer=recorder)
    await processor.start(NopHost())
    await processor.consume(metrics_data(gauge("a", 1, 2)))
    assert recorder.batches == []
    await processor.consume(metrics_data(gauge("a", 3, 4, 5), gauge("b", 6)))
    assert [count_points(b) for b in recorder.batches] == [4, 2]
    assert sent_values(recorder) == [("a", 1), ("a", 2), ("a", 3), ("a", 4), ("a", 5), ("b", 6)]
    await processor.shutdown()


async def test_timeout_sends_what_is_held():
    recorder = RecordingConsumer()
    processor = create(factory, {"send_batch_size": 1000, "timeout": "50ms"}, consumer=recorder)
    await processor.start(NopHost())
    await processor.consume(metrics_data(gauge("a", 1)))
    for _ in range(200):
        if recorder.batches:
            break
        await asyncio.sleep(0.01)
    assert sent_values(recorder) == [("a", 1)]
    await processor.shutdown()


async def test_shutdown_forwards_what_is_held_merged_by_resource():
    recorder = RecordingConsumer()
    processor = create(factory, {"send_batch_size": 1000, "timeout": "1h"}, consumer=recorder)
    await processor.start(NopHost())
    other = Resource({"service.name": "other"})
    await processor.consume(metrics_data(gauge("a", 1)))
    await processor.consume(metrics_data(gauge("b", 2), resource=other))
    await processor.consume(metrics_data(gauge("a", 3)))
    await processor.shutdown()
    (sent,) = recorder.batches
    assert len(sent.resource_metrics) == 2
    assert [p.value for p in data_points(sent)] == [1, 3, 2]


async def test_a_refused_batch_is_counted_not_raised():
    refusing = RefusingConsumer(RuntimeError("queue full"))
    processor = create(factory, {"send_batch_size": 1, "timeout": "0s"}, consumer=refusing)
    await processor.consume(metrics_data(gauge("a", 1, 2)))
    assert processor.settings.telemetry.value("otelcol_processor_dropped_metric_points", processor="batch") == 2


def test_max_size_below_size_is_refused():
    with pytest.raises(ValidationError, match="send_batch_max_size must be 0 or at least send_batch_size"):
        BatchConfig.model_validate({"send_batch_size": 10, "send_batch_max_size": 5})


def test_split_keeps_order_and_points():
    data = metrics_data(gauge("a", 1, 2, 3), gauge("b", 4))
    pieces = split(data, 2)
    assert [[p.value for p in data_points(piece)] for piece in pieces] == [[1, 2], [3, 4]]


# Any sequence of batches (several resources and metrics), any settings: what leaves is what came in,
# once each, and each series' points keep their order.
series = st.tuples(st.sampled_from(["r1", "r2"]), st.sampled_from(["m1", "m2", "m3"]), st.sampled_from(["x", "y"]))
incoming = st.lists(st.lists(series, min_size=1, max_size=6), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(incoming=incoming, size=st.integers(0, 8), extra=st.integers(0, 5), cap=st.booleans(), timeout=st.booleans())
def test_batch_never_loses_duplicates_or_reorders_a_series(incoming, size, extra, cap, timeout):
    config = {
        "send_batch_size": size,
        "send_batch_max_size": size + extra if cap and size + extra else 0,
        "timeout": "1ms" if timeout else "0s",
    }

    async def scenario():
        recorder = RecordingConsumer()
        processor = create(factory, config, consumer=recorder)
        await processor.start(NopHost())
        sequence = 0
        for group in incoming:
            metrics = []
            for resource, name, label in group:
                sequence += 1
                metrics.append((resource, gauge(name, number_point(sequence, {"k": label}))))
            for resource in ("r1", "r2"):
                mine = [m for r, m in metrics if r == resource]
                if mine:
                    await processor.consume(metrics_data(*mine, resource=Resource({"r": resource})))
            await asyncio.sleep(0)
        await processor.shutdown()
        return recorder

    recorder = asyncio.run(scenario())
    sent = [
        (rm.resource.attributes["r"], m.name, p.attributes["k"], p.value)
        for b in recorder.batches
        for rm in b.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        for p in m.data.data_points
    ]
    assert sorted(v for *_, v in sent) == list(range(1, sum(len(g) for g in incoming) + 1))
    by_series: dict[tuple, list[int]] = {}
    for r, name, label, value in sent:
        by_series.setdefault((r, name, label), []).append(value)
    assert all(values == sorted(values) for values in by_series.values())
    if config["send_batch_max_size"]:
        assert all(count_points(b) <= config["send_batch_max_size"] for b in recorder.batches)


async def test_send_batch_size_zero_leaves_sending_to_the_timeout():
    recorder = RecordingConsumer()
    processor = create(factory, {"send_batch_size": 0, "timeout": "1h"}, consumer=recorder)
    await processor.start(NopHost())
    await processor.consume(metrics_data(gauge("a", *[i for i in range(50)])))
    assert recorder.batches == []
    await processor.shutdown()
    assert count_points(recorder.batches[0]) == 50
