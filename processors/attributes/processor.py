from __future__ import annotations

from opentelemetry.sdk.metrics.export import Metric, MetricsData, ResourceMetrics, ScopeMetrics

from collector.component import SimpleProcessor
from collector.metrics import map_scoped_metrics
from common.matching import Selection
from common.points import edit_attributes
from processors.attributes.config import AttributesConfig


class AttributesProcessor(SimpleProcessor):
    """Inserts, updates, deletes, renames ... data point attributes (e.g. `server` -> `DBServerName`)."""

    config: AttributesConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.edits = [action.compile() for action in self.config.actions]
        self.selection = Selection.of(self.config.include, self.config.exclude)

    def process(self, data: MetricsData) -> MetricsData:
        return map_scoped_metrics(data, self._edit)

    def _edit(self, resource: ResourceMetrics, _scope: ScopeMetrics, metric: Metric) -> Metric:
        selected = (
            True if self.selection.everything else self.selection.for_metric(metric.name, resource.resource.attributes)
        )
        return metric if selected is False else edit_attributes(metric, self.edits, selected)
