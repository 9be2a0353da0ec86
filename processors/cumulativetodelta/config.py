"""The `cumulativetodelta` processor's settings: which metrics to convert and how a series' first point is treated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from opentelemetry.sdk.metrics.export import Histogram, Metric
from pydantic import Field

from collector.component import ConfigModel
from collector.configtypes import Duration, Refused
from common.matching import MetricsSelector, Selection


class CumulativeToDeltaConfig(ConfigModel):
    include: MetricsSelector | None = Field(None, description="Convert only these metrics (all when absent).")
    exclude: MetricsSelector | None = Field(None, description="Never convert these; wins over include.")
    initial_value: Literal["auto", "keep", "drop"] = Field(
        "auto", description="First point of a series: auto keeps it only for counters started after us."
    )
    max_staleness: Duration = Field(0.0, ge=0, description="Forget a series not seen for this long; 0 = never.")
    metrics: Annotated[
        Any, Refused("removed from the Collector: use include: {match_type: strict, metrics: [...]}")
    ] = None
    max_stale: Annotated[Any, Refused("renamed in the Collector: use max_staleness")] = None

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
