from __future__ import annotations

from opentelemetry.sdk.metrics.export import Metric, MetricsData

from collector.component import SimpleProcessor
from collector.metrics import iter_metrics, map_metrics
from common.actions.rename import RenameGuard
from processors.rename.config import RenameConfig


class RenameProcessor(SimpleProcessor):
    """Renames metrics; values, points and attributes are untouched."""

    config: RenameConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.renamer = self.config.renamer()
        self.guard = RenameGuard(self)

    def process(self, data: MetricsData) -> MetricsData:
        for metric in iter_metrics(data):
            if self.renamer.new_name(metric.name) is None:
                self.guard.observe(metric)
        return map_metrics(data, self._rename)

    def _rename(self, metric: Metric) -> Metric | None:
        new_name = self.renamer.new_name(metric.name)
        return metric if new_name is None else self.guard.rename(metric, new_name)
