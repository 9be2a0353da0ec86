from __future__ import annotations

import asyncio

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Host, Processor
from collector.metrics import count_points, merge, split
from processors.batch.config import BatchConfig


class BatchProcessor(Processor):
    """Stateful: holds points until `send_batch_size` or `timeout`, then forwards them, in arrival order,
    merged by resource and scope and cut at `send_batch_max_size`. Shutdown forwards what is held.

    One lock serialises sends, so batches leave in the order their points arrived and a series' points
    are never reordered.
    """

    config: BatchConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._held: list[MetricsData] = []
        self._held_points = 0
        self._send_lock = asyncio.Lock()
        self._arrived = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._failed = self.settings.telemetry.processor_dropped.labels(processor=self.id)

    async def start(self, host: Host) -> None:
        if self.config.timeout > 0:
            self._timer = asyncio.create_task(self._flush_on_timeout(), name=f"{self.id} timer")

    async def consume(self, data: MetricsData) -> None:
        points = count_points(data)
        if not points:
            return
        self._held.append(data)
        self._held_points += points
        size = self.config.send_batch_size
        if self.config.timeout == 0 or (size and self._held_points >= size):
            await self._flush()
        else:
            self._arrived.set()

    async def _flush_on_timeout(self) -> None:
        while True:
            await self._arrived.wait()
            await asyncio.sleep(self.config.timeout)
            await self._flush()

    async def _flush(self) -> None:
        async with self._send_lock:
            self._arrived.clear()
            if not self._held:
                return
            held, self._held, self._held_points = self._held, [], 0
            merged = merge(held)
            pieces = split(merged, self.config.send_batch_max_size) if self.config.send_batch_max_size else [merged]
            for piece in pieces:
                try:
                    await self.next_consumer.consume(piece)
                except Exception as exc:
                    # As in the Collector: the sender was already told yes, so count, log and go on.
                    self._failed.inc(count_points(piece))
                    self.logger.warning("the next component refused a batch of %d points: %s", count_points(piece), exc)

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        await self._flush()
