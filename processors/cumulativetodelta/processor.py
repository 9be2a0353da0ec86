from __future__ import annotations

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Consumer, CreateSettings, Processor
from common.delta import DeltaTracker
from processors.cumulativetodelta.config import CumulativeToDeltaConfig


class CumulativeToDeltaProcessor(Processor[CumulativeToDeltaConfig]):
    """Stateful: remembers the last value of every cumulative series (see common/delta.py for the rules)."""

    def __init__(self, settings: CreateSettings, config: CumulativeToDeltaConfig, next_consumer: Consumer) -> None:
        super().__init__(settings, config, next_consumer)
        self.tracker = DeltaTracker(
            initial_value=self.config.initial_value,
            max_staleness=self.config.max_staleness,
            select=self.config.select(),
        )
        self.dropped = self.settings.telemetry.dropped_points

    async def consume(self, data: MetricsData) -> None:
        result = self.tracker.convert(data)
        for reason, points in self.tracker.last_dropped.items():
            self.dropped.labels(component=self.id, reason=reason).inc(points)
        if result.resource_metrics:
            await self.next_consumer.consume(result)
