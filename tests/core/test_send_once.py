"""Every accepted batch leaves once: a timed-out export whose work still runs is awaited, not retried;
a batch above `sending_queue.batch.max_size` goes out in parts; the counters say what the backend got.

The exporters here are small in-process recorders (this tests the sender's logic); their blocking work
runs on a real thread through `OwnedExecutor`, as the file exporter's does.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from collector.component import Exporter, Kind
from collector.executors import OwnedExecutor
from collector.exporterhelper import BatchSizeConfig, QueueConfig, QueuedSender, RetryConfig, SendingConfig
from collector.metrics import count_points, iter_metrics, merge, split
from collector.otlpjson import to_request
from collector.telemetry import Telemetry
from collector.testing import MetricsData, NopHost, create_settings, gauge, metrics_data, number_point


def points_batch(points: int, metrics: int = 1, resources: int = 1) -> MetricsData:
    """`points` points per metric, numbered 0.. across the whole batch so order and loss are visible."""
    counter = iter(range(10**9))
    return merge(
        metrics_data(
            *[
                gauge(f"m{m}", *[number_point(next(counter), time=1) for _ in range(points)], unit="1")
                for m in range(metrics)
            ],
            resource={"r": str(r)},
            scope="t",
        )
        for r in range(resources)
    )


def values(data: MetricsData) -> list[float]:
    return [p.value for m in iter_metrics(data) for p in m.data.data_points]


class SlowWriter(Exporter):
    """Blocks a thread for `seconds` per export (a big file write), then records what it wrote."""

    def __init__(self, telemetry: Telemetry, seconds: float) -> None:
        super().__init__(create_settings(Kind.EXPORTER, "slow", telemetry), None)
        self.seconds = seconds
        self.written: list[float] = []
        self.calls = 0
        self._disk = OwnedExecutor("slow")

    async def export(self, data: MetricsData) -> None:
        self.calls += 1
        await self._disk.run(self._write, data)

    def _write(self, data: MetricsData) -> None:
        time.sleep(self.seconds)
        self.written.extend(values(data))


def sending(timeout: float, max_size: int = 0, sizer: str = "items") -> SendingConfig:
    return SendingConfig(
        timeout=f"{timeout}s",
        retry_on_failure=RetryConfig(initial_interval="50ms", max_interval="100ms", max_elapsed_time="30s"),
        sending_queue=QueueConfig(num_consumers=1, batch=BatchSizeConfig(sizer=sizer, max_size=max_size)),
    )


def counted(telemetry: Telemetry, exporter_id: str) -> tuple[float, float]:
    return (
        telemetry.value("otelcol_exporter_sent_metric_points", exporter=exporter_id),
        telemetry.value("otelcol_exporter_send_failed_metric_points", exporter=exporter_id),
    )


async def wait_until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def deliver_five_points(exporter: SlowWriter, telemetry: Telemetry) -> None:
    """Five points through a sending queue with a 0.1 s timeout, until all are counted sent; then a stop."""
    sender = QueuedSender(exporter, sending(timeout=0.1), telemetry)
    await sender.start(NopHost())
    await sender.consume(points_batch(5))
    await wait_until(lambda: counted(telemetry, "slow")[0] == 5)
    await sender.shutdown(asyncio.get_running_loop().time() + 1)


async def test_a_blocking_export_that_outlives_its_timeout_is_awaited_and_counted_sent_once(caplog):
    telemetry = Telemetry()
    exporter = SlowWriter(telemetry, seconds=0.6)
    sender = QueuedSender(exporter, sending(timeout=0.1), telemetry)
    await sender.start(NopHost())
    data = points_batch(50)
    await sender.consume(data)
    await wait_until(lambda: counted(telemetry, "slow")[0] == 50)
    await asyncio.sleep(0.3)  # a retry, if one were made, would have started by now
    await sender.shutdown(asyncio.get_running_loop().time() + 1)
    assert exporter.calls == 1
    assert exporter.written == values(data)
    assert counted(telemetry, "slow") == (50, 0)
    assert caplog.text.count("outlived its timeout") == 1


async def test_a_blocking_export_that_outlives_its_timeout_and_fails_is_retried_once_it_ended():
    telemetry = Telemetry()

    class FailsFirst(SlowWriter):
        spans: list[tuple[float, float]] = []

        def _write(self, data: MetricsData) -> None:
            started = time.monotonic()
            time.sleep(self.seconds)
            self.spans.append((started, time.monotonic()))
            if len(self.spans) == 1:
                raise OSError("disk hiccup")
            self.written.extend(values(data))

    exporter = FailsFirst(telemetry, seconds=0.4)
    await deliver_five_points(exporter, telemetry)
    assert exporter.calls == 2
    (_, first_ended), (second_started, _) = exporter.spans
    assert second_started >= first_ended  # the retry began only once the first write had ended
    assert exporter.written == values(points_batch(5))
    assert counted(telemetry, "slow") == (5, 0)


async def test_a_cancellable_export_that_times_out_is_retried():
    telemetry = Telemetry()

    class Hangs(SlowWriter):
        async def export(self, data: MetricsData) -> None:
            self.calls += 1
            if self.calls == 1:
                await asyncio.sleep(10)  # cancelled at the timeout: nothing was written
            self.written.extend(values(data))

    exporter = Hangs(telemetry, 0)
    await deliver_five_points(exporter, telemetry)
    assert exporter.calls == 2
    assert len(exporter.written) == 5


@pytest.mark.parametrize("sizer,max_size", [("items", 40), ("bytes", 2_000)])
async def test_a_batch_above_max_size_is_sent_in_parts_each_within_the_timeout(sizer, max_size):
    telemetry = Telemetry()
    exporter = SlowWriter(telemetry, seconds=0.01)
    seen: list[MetricsData] = []
    original = exporter.export

    async def recording(data: MetricsData) -> None:
        seen.append(data)
        await original(data)

    exporter.export = recording  # type: ignore[method-assign]
    sender = QueuedSender(exporter, sending(timeout=5, max_size=max_size, sizer=sizer), telemetry)
    await sender.start(NopHost())
    data = points_batch(30, metrics=2, resources=2)  # 120 points
    await sender.consume(data)
    await wait_until(lambda: counted(telemetry, "slow")[0] == 120)
    await sender.shutdown(asyncio.get_running_loop().time() + 1)
    assert len(seen) > 1
    for part in seen:
        size = count_points(part) if sizer == "items" else to_request(part).ByteSize()
        assert size <= max_size
    assert exporter.written == values(data)  # every point once, in order


async def test_shutdown_waits_one_timeout_for_a_running_blocking_export_and_counts_it_once():
    telemetry = Telemetry()
    exporter = SlowWriter(telemetry, seconds=0.5)
    sender = QueuedSender(exporter, sending(timeout=2), telemetry)
    await sender.start(NopHost())
    await sender.consume(points_batch(10))
    await sender.consume(points_batch(7))  # still queued when the grace period ends
    await asyncio.sleep(0.1)
    await sender.shutdown(asyncio.get_running_loop().time())  # no grace at all
    assert exporter.calls == 1
    assert counted(telemetry, "slow") == (10, 7)  # the running one finished and was sent; the queued one lost


def test_split_keeps_every_point_once_in_order_and_resources_apart():
    data = points_batch(7, metrics=3, resources=2)
    parts = split(data, 5)
    assert [count_points(p) for p in parts] == [5, 5, 5, 5, 5, 5, 5, 5, 2]
    assert [v for p in parts for v in values(p)] == values(data)
    assert {r.resource.attributes["r"] for r in parts[4].resource_metrics} == {"0", "1"}  # straddles resources


async def test_work_that_never_started_is_cancelled_for_real():
    executor = OwnedExecutor("one", max_workers=1)
    release = threading.Event()
    ran: list[str] = []
    first = asyncio.create_task(executor.run(release.wait))
    second = asyncio.create_task(executor.run(ran.append, "second"))
    await asyncio.sleep(0.05)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    release.set()
    assert await first is True
    executor.shutdown()
    assert ran == []
