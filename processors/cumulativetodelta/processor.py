from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from opentelemetry.sdk.metrics.export import Histogram, Metric, MetricsData
from pydantic import Field

from collector.component import ConfigModel, Factory, Kind, Processor, Stability
from collector.configtypes import Duration, Refused
from common.delta import DeltaTracker
from common.matching import MetricsSelector, Selection


class CumulativeToDeltaConfig(ConfigModel):
    include: MetricsSelector | None = Field(None, description="Convert only these metrics (all when absent).")
    exclude: MetricsSelector | None = Field(None, description="Never convert these; wins over include.")
    initial_value: Literal["auto", "keep", "drop"] = Field(
        "auto", description="First point of a series: auto keeps it only for counters started after us."
    )
    max_staleness: Duration = Field(0.0, ge=0, description="Forget a series not seen for this long; 0 = never.")
    metrics: Refused("removed from the Collector: use include: {match_type: strict, metrics: [...]}") = None
    max_stale: Refused("renamed in the Collector: use max_staleness") = None

    def select(self) -> Callable[[Metric], bool] | None:
        """The metrics to convert: by name (include/exclude), and by type (`metric_types`), or None for all."""
        names = Selection.of(self.include, self.exclude)
        include_types = set(self.include.metric_types) if self.include else set()
        exclude_types = set(self.exclude.metric_types) if self.exclude else set()
        if names.everything and not include_types and not exclude_types:
            return None

        def select(metric: Metric) -> bool:
            kind = "histogram" if isinstance(metric.data, Histogram) else "sum"
            if include_types and kind not in include_types:
                return False
            if exclude_types and kind in exclude_types:
                return False
            return names.matches_name(metric.name)

        return select


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


factory = Factory(
    type="cumulativetodelta",
    kind=Kind.PROCESSOR,
    config_model=CumulativeToDeltaConfig,
    create=CumulativeToDeltaProcessor,
    stability=Stability.BETA,
    description="Converts cumulative monotonic sums and histograms to deltas (per-series state).",
)
