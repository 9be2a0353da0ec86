"""The sending machinery every exporter sits behind: a bounded queue, consumers, timeout and retry.

Named and keyed as the Collector's exporterhelper (`timeout`, `retry_on_failure`, `sending_queue`), so
a slow or failing exporter only fills its own queue and never blocks or starves another one.

Every accepted batch leaves once. An export attempt that exceeds `timeout` is cancelled; an export
whose work cannot be cancelled (it runs on a thread, see collector/executors.py) is waited for, and if
it then succeeded it is counted sent, never retried. A batch larger than `sending_queue.batch.max_size`
(points, or encoded bytes) is sent as several requests, each with its own timeout, so one big batch
cannot time out forever; sent/failed counters count each part as its backend answered.

With `sending_queue.storage` naming a `file_storage` extension the queue lives on disk (see
collector/filequeue.py): at-least-once delivery across restarts and crashes. Without it, what is still
queued when the shutdown grace period ends is counted as failed and lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal, Protocol

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import BaseModel, Field

from collector.component import (
    ComponentError,
    ConfigModel,
    Exporter,
    ExporterFactory,
    Factory,
    Host,
    PermanentError,
    StorageExtension,
    TransientError,
)
from collector.configtypes import Duration
from collector.executors import OwnedExecutor
from collector.filequeue import FileQueue
from collector.metrics import count_points, has_points, split
from collector.otlpjson import to_request
from collector.telemetry import Telemetry


class QueueFullError(TransientError):
    """The sending queue refused a batch. Raised to the receiver, as the Collector's ErrQueueIsFull is, so
    a pushing client (OTLP) is told to back off instead of being told its data was taken."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=1.0)


class _Interrupted(Exception):
    """Shutdown's grace period ended while a batch was being sent: it stays in flight for `drain`."""


class RetryConfig(ConfigModel):
    enabled: bool = True
    initial_interval: Duration = 5.0
    randomization_factor: float = Field(0.5, ge=0, le=1)
    multiplier: float = Field(1.5, ge=1)
    max_interval: Duration = 30.0
    max_elapsed_time: Duration = Field(300.0, description="Give up after this long; 0 retries forever.")


class BatchSizeConfig(ConfigModel):
    """The Collector's `sending_queue.batch` size keys; only the upper bound is used here (merging small
    batches is the `batch` processor's job): a larger batch is split before it is sent."""

    sizer: Literal["items", "bytes"] = Field(
        "items", description="items: data points; bytes: size of the OTLP protobuf encoding."
    )
    max_size: int = Field(0, ge=0, description="Split batches above this size; 0 never splits.")


class QueueConfig(ConfigModel):
    enabled: bool = True
    num_consumers: int = Field(10, ge=1)
    queue_size: int = Field(1000, ge=1, description="Capacity in batches.")
    storage: str | None = Field(
        None, description="Id of a file_storage extension: keep the queue on disk so a restart loses nothing."
    )
    batch: BatchSizeConfig = BatchSizeConfig()


class SendingConfig(ConfigModel):
    """Mix into an exporter's config model to give users the Collector's sending keys (and declare
    `sending=sending_from_config` in its `ExporterFactory`)."""

    timeout: Duration = Field(5.0, gt=0)
    retry_on_failure: RetryConfig = RetryConfig()
    sending_queue: QueueConfig = QueueConfig()


def sending_from_config(config: SendingConfig) -> SendingConfig:
    """`ExporterFactory.sending` of an exporter whose config mixes in `SendingConfig`: the users' keys."""
    return config


def fixed_sending(sending: SendingConfig) -> Callable[[object], SendingConfig]:
    """`ExporterFactory.sending` of an exporter whose sending is its own choice, not the users'."""
    return lambda _config: sending


def sending_of(factory: Factory[Any], config: BaseModel) -> SendingConfig:
    """The sending behaviour `factory` chose for the exporter it makes from `config`."""
    if isinstance(factory, ExporterFactory) and factory.sending is not None:
        return factory.sending(config)
    return SendingConfig()


def _retry_after(exc: Exception) -> float:
    """The least wait before the next try that the failure asks for (0: none)."""
    return (exc.retry_after or 0.0) if isinstance(exc, TransientError) else 0.0


class BatchQueue(Protocol):
    """Where accepted batches wait. `offer` returns once the batch is safe (in memory, or on disk for a
    persistent queue) or refused; `done` retires a batch for good (sent, or failed permanently)."""

    capacity: int

    async def offer(self, data: MetricsData) -> bool: ...

    async def take(self) -> tuple[int, MetricsData]: ...

    async def done(self, token: int) -> None: ...

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

    async def take(self) -> tuple[int, MetricsData]:
        data = await self._queue.get()
        self._in_flight[id(data)] = data
        return id(data), data

    async def done(self, token: int) -> None:
        self._in_flight.pop(token, None)

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


def backoff_delays(config: RetryConfig, rng: random.Random | None = None) -> Iterator[float]:
    """Exponential intervals with jitter, capped at max_interval (an endless generator)."""
    rng = rng or random.Random()
    interval = config.initial_interval
    while True:
        jitter = config.randomization_factor * interval
        yield max(0.0, interval + rng.uniform(-jitter, jitter))
        interval = min(interval * config.multiplier, config.max_interval)


class QueuedSender:
    """Stands in front of one exporter; the pipeline's fan-out only ever talks to this."""

    def __init__(self, exporter: Exporter[Any], config: SendingConfig, telemetry: Telemetry) -> None:
        self.exporter = exporter
        self.config = config
        self.telemetry = telemetry
        self.queue: BatchQueue = MemoryQueue(config.sending_queue.queue_size)
        self._workers: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._closing = False
        self._full_logged = False
        self._retrying_logged = False
        self._slow_logged = False
        self._last_rejection = ""
        self._labels = {"exporter": exporter.id}
        self._partly_handled: dict[int, int] = {}
        # Splitting and sizing a large batch is CPU work on every point: off the loop, on a thread of ours.
        self._splitter = OwnedExecutor(f"split-{exporter.id}")

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
        if not isinstance(storage, StorageExtension):
            raise ComponentError(f"sending_queue.storage: extension {queue_config.storage!r} is not a file_storage")
        errors = self.telemetry.exporter_storage_errors
        queue = FileQueue(
            queue_config.queue_size,
            storage.client_directory("exporter", self.exporter.id),
            self.exporter.logger,
            lambda operation: errors.labels(operation=operation, **self._labels).inc(),
            fsync=storage.fsync,
            mode=storage.permissions,
        )
        recovered = await queue.open()
        if recovered:
            self.exporter.logger.info("sending batches left on disk by the previous run", extra={"batches": recovered})
        return queue

    async def consume(self, data: MetricsData) -> None:
        data = self.exporter.prepare(data)
        if not has_points(data):
            return
        if not self.config.sending_queue.enabled:
            try:
                await self._send(data)
            except _Interrupted:
                unsent = count_points(data) - self._partly_handled.pop(id(data), 0)
                self._failed(unsent, "shutdown grace period ended before the batch was sent")
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
        worker = asyncio.current_task()
        assert worker is not None
        while not self._stopping.is_set():
            token, data = await self.queue.take()
            # From here to `done` the batch is this worker's: shutdown lets it finish (see `shutdown`).
            self._busy.add(worker)
            try:
                await self._send(data)
                await self.queue.done(token)
            except _Interrupted:
                return  # not done: kept on disk by a persistent queue, else counted failed by `shutdown`
            finally:
                self._busy.discard(worker)
            self._update_queue_gauge()
            if self._full_logged and self.queue.size() < self.queue.capacity:
                self._full_logged = False
                self.exporter.logger.info("sending queue has room again")

    def _update_queue_gauge(self) -> None:
        self.telemetry.exporter_queue_size.labels(**self._labels).set(self.queue.size())

    async def _parts(self, data: MetricsData) -> list[MetricsData]:
        """The batch as requests no larger than `sending_queue.batch.max_size`."""
        batch = self.config.sending_queue.batch
        if not batch.max_size:
            return [data]
        points = count_points(data)
        if batch.sizer == "items":
            if points <= batch.max_size:
                return [data]
            return await self._splitter.run(split, data, batch.max_size)
        size = await self._splitter.run(lambda: to_request(data).ByteSize())
        if size <= batch.max_size:
            return [data]
        # Points of one batch are alike in size: cut by the average, with a margin for the envelope.
        per_part = max(1, int(points * batch.max_size * 0.9 / size))
        return await self._splitter.run(split, data, per_part)

    async def _send(self, data: MetricsData) -> None:
        started = time.monotonic()
        handled = 0
        for part in await self._parts(data):
            try:
                handled += await self._send_part(part, started)
            except _Interrupted:
                self._partly_handled[id(data)] = handled  # counted already: `shutdown` must not count them again
                raise

    async def _send_part(self, data: MetricsData, started: float) -> int:
        """Send one request with retries; count its points exactly once, as sent or as failed, and return
        how many that was."""
        points = count_points(data)
        retry = self.config.retry_on_failure
        delays = backoff_delays(retry)
        while True:
            if self._stopping.is_set():
                raise _Interrupted
            try:
                await self._attempt(data)
            except PermanentError as exc:
                self._rejected(points, str(exc) or type(exc).__name__)
                return points
            except Exception as exc:  # every other failure is retryable: throttling, 5xx, network
                reason = str(exc) or type(exc).__name__
                if not retry.enabled:
                    self._failed(points, f"failed (retry disabled): {reason}")
                    return points
                delay = max(next(delays), _retry_after(exc))
                elapsed = time.monotonic() - started
                if retry.max_elapsed_time and elapsed + delay > retry.max_elapsed_time:
                    self._failed(points, f"gave up after {elapsed:.1f}s of retries: {reason}")
                    return points
                if not self._retrying_logged:
                    self._retrying_logged = True
                    self.exporter.logger.warning("export failed, retrying: %s", reason)
                self.exporter.logger.debug("export failed, retrying", extra={"delay_s": round(delay, 3)})
                with contextlib.suppress(TimeoutError):  # a backoff ends early when shutdown's grace period is over
                    await asyncio.wait_for(self._stopping.wait(), delay)
                continue
            self.telemetry.exporter_sent.labels(**self._labels).inc(points)
            if self._retrying_logged:
                self._retrying_logged = False
                self.exporter.logger.info("export succeeded again")
            return points

    async def _attempt(self, data: MetricsData) -> None:
        """One try, bounded by `timeout`, whose outcome is what the exporter really did.

        On timeout (or when shutdown's grace period ends) the export is cancelled and then awaited: a
        cancellable export (network I/O on the loop) ends at once and the try counts as failed; one whose
        work runs on a thread ends when that work does, and if it succeeded the try succeeded. Retrying
        while that work still ran is how one batch used to be written twice.
        """
        export = asyncio.create_task(self.exporter.export(data), name=f"export:{self.exporter.id}")
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({export, stopping}, timeout=self.config.timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not export.done():
            export.cancel()
            # Unbounded by design while running: the exporter's own work bounds it. At shutdown, one more
            # `timeout` at most; an export still running then has an unknown outcome and counts as failed.
            await asyncio.wait({export}, timeout=self.config.timeout if self._stopping.is_set() else None)
            if not export.done():
                raise TimeoutError(f"export still running {self.config.timeout}s after shutdown")
            if export.cancelled():
                raise TimeoutError(f"export timed out after {self.config.timeout}s")
            if export.exception() is None and not self._slow_logged:
                self._slow_logged = True
                self.exporter.logger.warning(
                    "an export outlived its timeout and then succeeded: counted sent, not retried "
                    "(set sending_queue.batch.max_size to send large batches in parts)",
                    extra={"timeout_s": self.config.timeout},
                )
        export.result()

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
        """Stop accepting, let the consumers drain until `deadline` (a loop time), then account for the rest.

        After the deadline, workers holding a batch finish their current try (at most one more
        `timeout`) and count its points themselves; idle workers are stopped; what is still queued is
        counted failed (or stays on disk with a persistent queue).
        """
        self._closing = True
        loop = asyncio.get_running_loop()
        while self._workers and not self.queue.idle() and loop.time() < deadline:
            await asyncio.sleep(0.01)
        self._stopping.set()
        for worker in self._workers:
            if worker not in self._busy:
                worker.cancel()
        if self._busy:
            await asyncio.wait(set(self._busy), timeout=self.config.timeout + 1)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._splitter.shutdown()
        lost, stored = self.queue.drain()
        if stored:
            self.exporter.logger.info("batches kept on disk for the next start", extra={"batches": stored})
        points = sum(count_points(d) - self._partly_handled.get(id(d), 0) for d in lost)
        if points:
            self._failed(points, "shutdown grace period ended before the queue drained")
