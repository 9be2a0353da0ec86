from __future__ import annotations

from typing import Literal

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field

from collector.component import ConfigModel, Factory, Kind, Processor, Stability
from collector.configtypes import Duration
from processors.cumulativetodelta.tracker import DeltaTracker
from processors.matching import MetricsSelector, Selection


class CumulativeToDeltaConfig(ConfigModel):
    include: MetricsSelector | None = Field(None, description="Convert only these metrics (all when absent).")
    exclude: MetricsSelector | None = Field(None, description="Never convert these; wins over include.")
    initial_value: Literal["auto", "keep", "drop"] = Field(
        "auto", description="First point of a series: auto keeps it only for counters started after us."
    )
    max_staleness: Duration = Field(0.0, ge=0, description="Forget a series not seen for this long; 0 = never.")


class CumulativeToDeltaProcessor(Processor):
    """Stateful: remembers the last value of every cumulative series (see tracker.py for the rules)."""

    config: CumulativeToDeltaConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        selection = Selection.of(self.config.include, self.config.exclude)
        self.tracker = DeltaTracker(
            initial_value=self.config.initial_value,
            max_staleness=self.config.max_staleness,
            select=None if selection.everything else selection.matches_name,
        )
        self.dropped = self.settings.telemetry.dropped_points

    async def consume(self, data: MetricsData) -> None:
        result = self.tracker.convert(data)
        for reason, points in self.tracker.last_dropped.items():
            self.dropped.labels(component=self.id, reason=reason).inc(points)
        if result.resource_metrics:
            await self.next_consumer.consume(result)


factory = Factory(
    type="cumulativetodelta",
    kind=Kind.PROCESSOR,
    config_model=CumulativeToDeltaConfig,
    create=CumulativeToDeltaProcessor,
    stability=Stability.BETA,
    description="Converts cumulative monotonic sums and histograms to deltas (per-series state).",
)
