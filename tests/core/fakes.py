"""Test-only components for unit tests of the core's logic (integration tests use real components)."""

from __future__ import annotations

import asyncio
import dataclasses

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field

from collector.component import (
    ConfigModel,
    Exporter,
    ExporterFactory,
    Factory,
    Kind,
    PermanentError,
    Receiver,
    SimpleProcessor,
)
from collector.exporterhelper import SendingConfig, sending_from_config
from collector.metrics import map_metrics
from collector.registry import Registry
from collector.testing import metric_names
from extensions.health_check import factory as health_check_factory


class PushConfig(ConfigModel):
    block_start: bool = False  # start() waits for PushReceiver.release, to observe a starting service


class PushReceiver(Receiver):
    """Pushes whatever the test hands it; every instance is recorded so tests can count them."""

    instances: list[PushReceiver] = []
    release: asyncio.Event | None = None

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        PushReceiver.instances.append(self)

    async def start(self, host: object) -> None:
        if self.config.block_start:
            assert PushReceiver.release is not None
            await PushReceiver.release.wait()

    async def push(self, data: MetricsData) -> None:
        await self.consumer.consume(data)


class SuffixConfig(ConfigModel):
    suffix: str = Field(min_length=1)


class SuffixProcessor(SimpleProcessor):
    def process(self, data: MetricsData) -> MetricsData:
        return map_metrics(data, lambda m: dataclasses.replace(m, name=m.name + self.config.suffix))


class RecordConfig(SendingConfig):
    mode: str = "ok"  # ok | raise | hang | permanent | flaky
    failures: int = 0  # for flaky: how many calls fail before success


class RecordExporter(Exporter):
    instances: dict[str, RecordExporter] = {}

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.received: list[MetricsData] = []
        self.calls = 0
        RecordExporter.instances[self.id] = self

    def names(self) -> list[str]:
        return metric_names(*self.received)

    async def export(self, data: MetricsData) -> None:
        self.calls += 1
        mode = self.config.mode
        if mode == "raise":
            raise ConnectionError("backend down")
        if mode == "permanent":
            raise PermanentError("bad request")
        if mode == "hang":
            await asyncio.sleep(3600)
        if mode == "flaky" and self.calls <= self.config.failures:
            raise ConnectionError("temporarily down")
        if mode == "slow":
            await asyncio.sleep(0.05)
        self.received.append(data)


def registry() -> Registry:
    PushReceiver.instances.clear()
    RecordExporter.instances.clear()
    r = Registry()
    r.add(Factory("push", Kind.RECEIVER, PushConfig, PushReceiver))
    r.add(Factory("suffix", Kind.PROCESSOR, SuffixConfig, SuffixProcessor))
    r.add(ExporterFactory("record", RecordConfig, RecordExporter, sending=sending_from_config))
    r.add(health_check_factory)
    return r
