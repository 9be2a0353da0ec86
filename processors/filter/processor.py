from __future__ import annotations

from typing import Literal

from opentelemetry.sdk.metrics.export import Metric, MetricsData, ResourceMetrics, ScopeMetrics
from pydantic import Field

from collector.component import ConfigModel, Factory, Kind, SimpleProcessor, Stability
from collector.configtypes import Refused
from collector.metrics import count_points, map_scoped_metrics
from common.matching import MatchProperties, Selection
from common.points import keep_points

_OTTL = "OTTL conditions are not supported: use include/exclude with match_type strict or regexp"
_METRICS_ONLY = "this collector runs metrics pipelines only"


class MetricsFilter(ConfigModel):
    include: MatchProperties | None = Field(None, description="Keep only what matches (all when absent).")
    exclude: MatchProperties | None = Field(None, description="Drop what matches; wins over include.")
    metric: Refused(_OTTL) = None
    datapoint: Refused(_OTTL) = None


class FilterConfig(ConfigModel):
    metrics: MetricsFilter = Field(default_factory=MetricsFilter)
    error_mode: Literal["ignore", "silent", "propagate"] = Field(
        "propagate", description="For OTTL condition errors in the Collector; include/exclude never fail."
    )
    logs: Refused(_METRICS_ONLY) = None
    traces: Refused(_METRICS_ONLY) = None
    spans: Refused(_METRICS_ONLY) = None


class FilterProcessor(SimpleProcessor):
    """Keeps or drops metrics by name and resource, and points by attribute values.

    Filtered points are counted in `otelcol_processor_dropped_metric_points` (they are not errors).
    """

    config: FilterConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        metrics = self.config.metrics
        self.selection = Selection.of(metrics.include, metrics.exclude)
        self.filtered = self.settings.telemetry.processor_dropped.labels(processor=self.id)

    def process(self, data: MetricsData) -> MetricsData:
        if self.selection.everything:
            return data
        result = map_scoped_metrics(data, self._filter)
        self.filtered.inc(count_points(data) - count_points(result))
        return result

    def _filter(self, resource: ResourceMetrics, _scope: ScopeMetrics, metric: Metric) -> Metric | None:
        keep = self.selection.for_metric(metric.name, resource.resource.attributes)
        if keep is True:
            return metric
        return None if keep is False else keep_points(metric, keep)


factory = Factory(
    type="filter",
    kind=Kind.PROCESSOR,
    config_model=FilterConfig,
    create=FilterProcessor,
    stability=Stability.BETA,
    description="Keeps or drops metrics by name (strict|regexp), resource and point attributes.",
)
