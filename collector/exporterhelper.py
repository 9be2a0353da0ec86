"""The sending machinery every exporter sits behind: a bounded queue, consumers, timeout and retry.

Named and keyed as the Collector's exporterhelper (`timeout`, `retry_on_failure`, `sending_queue`), so
a slow or failing exporter only fills its own queue and never blocks or starves another one.

With `sending_queue.storage` naming a `file_storage` extension the queue lives on disk (see
collector/filequeue.py): at-least-once delivery across restarts and crashes. Without it, what is still
queued when the shutdown grace period ends is counted as failed and lost.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Protocol

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field

from collector.component import ComponentError, ConfigModel, Exporter, Host, PermanentError
from collector.configtypes import Duration
from collector.filequeue import FileQueue
from collector.metrics import count_points
from collector.telemetry import Telemetry


class QueueFullError(Exception):
    """The sending queue refused a batch. Raised to the receiver, as the Collector's ErrQueueIsFull is, so
    a pushing client (OTLP) is told to back off instead of being told its data was taken."""

    retry_after = 1.0


class RetryConfig(ConfigModel):
    enabled: bool = True
    initial_interval: Duration = 5.0
    randomization_factor: float = Field(0.5, ge=0, le=1)
    multiplier: float = Field(1.5, ge=1)
    max_interval: Duration = 30.0
    max_elapsed_time: Duration = Field(300.0, description="Give up after this long; 0 retries forever.")


class QueueConfig(ConfigModel):
    enabled: bool = True
    num_consumers: int = Field(10, ge=1)
    queue_size: int = Field(1000, ge=1, description="Capacity in batches.")
    storage: str | None = Field(
        None, description="Id of a file_storage extension: keep the queue on disk so a restart loses nothing."
    )


class SendingConfig(ConfigModel):
    """Mix into an exporter's config model to give users the Collector's sending keys."""

    timeout: Duration = Field(5.0, gt=0)
    retry_on_failure: RetryConfig = RetryConfig()
    sending_queue: QueueConfig = QueueConfig()


class BatchQueue(Protocol):
    """Where accepted batches wait. `offer` returns once the batch is safe (in memory, or on disk for a
    persistent queue) or refused; `done` retires a batch for good (sent, or failed permanently)."""

    capacity: int

    async def offer(self, data: MetricsData) -> bool: ...

    async def take(self) -> tuple[object, MetricsData]: ...

    async def done(self, token: object) -> None: ...

    def size(self) -> int: ...

    def idle(self) -> bool: ...

    def drain(self) -> tuple[list[MetricsData], int]:
        """At shutdown: batches accepted but not done that will be lost, and how many stay stored."""
        ...


class MemoryQueue:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._queue: asyncio.Queue[MetricsData] = asyncio.Queue(maxsize=capacity)
        self._in_flight: dict[int, MetricsData] = {}

    async def offer(self, data: MetricsData) -> bool:
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            return False
        return True

    async def take(self) -> tuple[object, MetricsData]:
        data = await self._queue.get()
        self._in_flight[id(data)] = data
        return id(data), data

    async def done(self, token: object) -> None:
        self._in_flight.pop(token, None)  # type: ignore[call-overload]

    def size(self) -> int:
        return self._queue.qsize()

    def drain(self) -> tuple[list[MetricsData], int]:
        waiting = []
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        lost = [*self._in_flight.values(), *waiting]
        self._in_flight.clear()
        return lost, 0

    def idle(self) -> bool:
        return self._queue.empty() and not self._in_flight


def backoff_delays(config: RetryConfig, rng: random.Random | None = None):
    """Exponential intervals with jitter, capped at max_interval (an endless generator)."""
    rng = rng or random.Random()
    interval = config.initial_interval
    while True:
        jitter = config.randomization_factor * interval
        yield max(0.0, interval + rng.uniform(-jitter, jitter))
        interval = min(interval * config.multiplier, config.max_interval)


class QueuedSender:
    """Stands in front of one exporter; the pipeline's fan-out only ever talks to this."""

    def __init__(self, exporter: Exporter, config: SendingConfig, telemetry: Telemetry) -> None:
        self.exporter = exporter
        self.config = config
        self.telemetry = telemetry
        self.queue: BatchQueue = MemoryQueue(config.sending_queue.queue_size)
        self._workers: list[asyncio.Task[None]] = []
        self._closing = False
        self._full_logged = False
        self._retrying_logged = False
        self._last_rejection = ""
        self._labels = {"exporter": exporter.id}

    async def start(self, host: Host) -> None:
        queue_config = self.config.sending_queue
        if not queue_config.enabled:
            return
        if queue_config.storage:
            self.queue = await self._open_file_queue(host, queue_config)
        self.telemetry.exporter_queue_capacity.labels(**self._labels).set(self.queue.capacity)
        self._update_queue_gauge()
        self._workers = [
            asyncio.create_task(self._work(), name=f"send:{self.exporter.id}:{i}")
            for i in range(queue_config.num_consumers)
        ]

    async def _open_file_queue(self, host: Host, queue_config: QueueConfig) -> FileQueue:
        storage = host.extension(queue_config.storage or "")
        client_directory = getattr(storage, "client_directory", None)
        if client_directory is None:
            raise ComponentError(f"sending_queue.storage: extension {queue_config.storage!r} is not a file_storage")
        errors = self.telemetry.exporter_storage_errors
        queue = FileQueue(
            queue_config.queue_size,
            Path(client_directory("exporter", self.exporter.id)),
            self.exporter.logger,
            lambda operation: errors.labels(operation=operation, **self._labels).inc(),
            fsync=bool(getattr(storage.config, "fsync", False)),
        )
        recovered = await queue.open()
        if recovered:
            self.exporter.logger.info("sending batches left on disk by the previous run", extra={"batches": recovered})
        return queue

    async def consume(self, data: MetricsData) -> None:
        data = self.exporter.prepare(data)
        if not count_points(data):
            return
        if not self.config.sending_queue.enabled:
            await self._send(data)
            return
        if self._closing or not await self.queue.offer(data):
            self.telemetry.exporter_enqueue_failed.labels(**self._labels).inc(count_points(data))
            if not self._full_logged:
                self._full_logged = True
                self.exporter.logger.warning(
                    "sending queue full: refusing new batches until it drains",
                    extra={"queue_size": self.queue.capacity},
                )
            raise QueueFullError(f"sending queue of exporter {self.exporter.id} is full")
        self._update_queue_gauge()

    async def _work(self) -> None:
        while True:
            token, data = await self.queue.take()
            # A cancellation (shutdown) leaves the batch in flight, so shutdown accounts for it.
            await self._send(data)
            await self.queue.done(token)
            self._update_queue_gauge()
            if self._full_logged and self.queue.size() < self.queue.capacity:
                self._full_logged = False
                self.exporter.logger.info("sending queue has room again")

    def _update_queue_gauge(self) -> None:
        self.telemetry.exporter_queue_size.labels(**self._labels).set(self.queue.size())

    async def _send(self, data: MetricsData) -> None:
        points = count_points(data)
        retry = self.config.retry_on_failure
        delays = backoff_delays(retry)
        started = time.monotonic()
        while True:
            try:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that
                # races with the export finishing, leaving a worker retrying after shutdown.
                async with asyncio.timeout(self.config.timeout):
                    await self.exporter.export(data)
            except PermanentError as exc:
                self._rejected(points, str(exc) or type(exc).__name__)
                return
            except Exception as exc:  # every other failure is retryable: throttling, 5xx, network
                reason = str(exc) or type(exc).__name__
                if not retry.enabled:
                    self._failed(points, f"failed (retry disabled): {reason}")
                    return
                delay = max(next(delays), float(getattr(exc, "retry_after", 0) or 0))
                elapsed = time.monotonic() - started
                if retry.max_elapsed_time and elapsed + delay > retry.max_elapsed_time:
                    self._failed(points, f"gave up after {elapsed:.1f}s of retries: {reason}")
                    return
                if not self._retrying_logged:
                    self._retrying_logged = True
                    self.exporter.logger.warning("export failed, retrying: %s", reason)
                self.exporter.logger.debug("export failed, retrying", extra={"delay_s": round(delay, 3)})
                await asyncio.sleep(delay)
                continue
            self.telemetry.exporter_sent.labels(**self._labels).inc(points)
            if self._retrying_logged:
                self._retrying_logged = False
                self.exporter.logger.info("export succeeded again")
            return

    def _failed(self, points: int, reason: str) -> None:
        self.telemetry.exporter_send_failed.labels(**self._labels).inc(points)
        self.exporter.logger.error("export failed: %s", reason, extra={"points": points})

    def _rejected(self, points: int, reason: str) -> None:
        """A permanent error: counted every time, logged once per distinct reason (quiet at steady state)."""
        self.telemetry.exporter_send_failed.labels(**self._labels).inc(points)
        if reason != self._last_rejection:
            self._last_rejection = reason
            self.exporter.logger.error("export rejected, not retried: %s", reason, extra={"points": points})

    async def shutdown(self, deadline: float) -> None:
        """Stop accepting, let the consumers drain until `deadline` (a loop time), then account for the rest."""
        self._closing = True
        loop = asyncio.get_running_loop()
        while self._workers and not self.queue.idle() and loop.time() < deadline:
            await asyncio.sleep(0.01)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        lost, stored = self.queue.drain()
        if stored:
            self.exporter.logger.info("batches kept on disk for the next start", extra={"batches": stored})
        if lost:
            points = sum(count_points(d) for d in lost)
            self._failed(points, "shutdown grace period ended before the queue drained")
