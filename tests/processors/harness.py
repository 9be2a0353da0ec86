"""Processors built the way the pipeline builds them, feeding a consumer that records what it got."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import ComponentID, CreateSettings, Factory, Kind, Processor
from collector.logs import component_logger
from collector.telemetry import Telemetry


class Recorder:
    """The next consumer: keeps every batch it is handed, in order."""

    def __init__(self) -> None:
        self.batches: list[MetricsData] = []

    async def consume(self, data: MetricsData) -> None:
        self.batches.append(data)


def build(factory: Factory, config: dict[str, Any], name: str = "test") -> tuple[Processor, Recorder, Telemetry]:
    telemetry = Telemetry()
    component_id = ComponentID(factory.type, name)
    settings = CreateSettings(component_id, Kind.PROCESSOR, telemetry, component_logger("processor", str(component_id)))
    recorder = Recorder()
    processor = factory.create(settings, factory.config_model.model_validate(config), recorder)
    return processor, recorder, telemetry
