from __future__ import annotations

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Processor
from common.delta import DeltaTracker
from processors.cumulativetodelta.config import CumulativeToDeltaConfig


class CumulativeToDeltaProcessor(Processor):
    """Stateful: remembers the last value of every cumulative series (see common/delta.py for the rules)."""

    config: CumulativeToDeltaConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
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
