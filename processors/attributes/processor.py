from __future__ import annotations

from opentelemetry.sdk.metrics.export import Metric, MetricsData, ResourceMetrics, ScopeMetrics
from pydantic import Field

from collector.component import ConfigModel, Factory, Kind, SimpleProcessor, Stability
from collector.metrics import map_scoped_metrics
from common.actions.attributes import AttributeAction
from common.matching import MatchProperties, Selection
from common.points import edit_attributes


class AttributesConfig(ConfigModel):
    actions: list[AttributeAction] = Field(min_length=1, description="Applied in order to each data point.")
    include: MatchProperties | None = Field(None, description="Only matching metrics/points are changed.")
    exclude: MatchProperties | None = Field(None, description="Matching metrics/points are left alone.")


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


factory = Factory(
    type="attributes",
    kind=Kind.PROCESSOR,
    config_model=AttributesConfig,
    create=AttributesProcessor,
    stability=Stability.BETA,
    description="The Collector attributesprocessor's actions on data point attributes, plus rename.",
)
