from __future__ import annotations

import asyncio
from typing import Self

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel, Consumer, CreateSettings, Factory, Host, Kind, Processor, Stability
from collector.configtypes import Duration
from collector.metrics import count_points, merge, split


class BatchConfig(ConfigModel):
    """The Collector batch processor's keys and defaults."""

    send_batch_size: int = Field(
        8192, ge=0, description="Send as soon as this many points are held; 0 = only the timeout sends."
    )
    send_batch_max_size: int = Field(0, ge=0, description="Never send more points at once; 0 = no limit.")
    timeout: Duration = Field(0.2, ge=0, description="Send what is held after this long; 0 = at once.")
    metadata_keys: list[str] = Field(
        default_factory=list,
        description="One batcher per distinct value of these client metadata keys. No receiver here attaches "
        "client metadata (include_metadata), so all data has the empty value and one batcher runs.",
    )
    metadata_cardinality_limit: int = Field(1000, ge=0, description="Most distinct metadata combinations.")

    @field_validator("metadata_keys")
    @classmethod
    def _distinct_keys(cls, keys: list[str]) -> list[str]:
        seen: set[str] = set()
        for key in keys:
            if key.lower() in seen:  # case-insensitive, as HTTP and gRPC metadata are
                raise ValueError(f"duplicate entry in metadata_keys: {key!r} (case-insensitive)")
            seen.add(key.lower())
        return keys

    @model_validator(mode="after")
    def _max_not_below_size(self) -> Self:
        if self.send_batch_max_size and self.send_batch_max_size < self.send_batch_size:
            raise ValueError("send_batch_max_size must be 0 or at least send_batch_size")
        return self


class BatchProcessor(Processor[BatchConfig]):
    """Stateful: holds points until `send_batch_size` or `timeout`, then forwards them, in arrival order,
    merged by resource and scope and cut at `send_batch_max_size`. Shutdown forwards what is held.

    One lock serialises sends, so batches leave in the order their points arrived and a series' points
    are never reordered.
    """

    def __init__(self, settings: CreateSettings, config: BatchConfig, next_consumer: Consumer) -> None:
        super().__init__(settings, config, next_consumer)
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


factory = Factory(
    type="batch",
    kind=Kind.PROCESSOR,
    config_model=BatchConfig,
    create=BatchProcessor,
    stability=Stability.BETA,
    description="Groups points into batches by size and time, as the Collector's batch processor.",
)
