from __future__ import annotations

from opentelemetry.sdk.metrics.export import Metric, MetricsData, ResourceMetrics, ScopeMetrics

from collector.component import SimpleProcessor
from collector.metrics import count_points, map_scoped_metrics
from common.matching import Selection
from common.points import keep_points
from processors.filter.config import FilterConfig


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
