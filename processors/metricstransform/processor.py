from __future__ import annotations

from opentelemetry.sdk.metrics.export import Metric, MetricsData

from collector.component import SimpleProcessor
from collector.metrics import iter_metrics, map_metrics, merge
from common.actions.rename import RenameGuard
from processors.metricstransform.config import (
    CompiledTransform,
    MetricsTransformConfig,
)


class MetricsTransformProcessor(SimpleProcessor):
    """The Collector metricstransform subset that maps onto rename, rescale and attribute edits."""

    config: MetricsTransformConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.transforms = [CompiledTransform(t) for t in self.config.transforms]
        self.guard = RenameGuard(self)

    def process(self, data: MetricsData) -> MetricsData:
        for transform in self.transforms:
            if transform.renamer is not None:
                for metric in iter_metrics(data):
                    if not transform.pattern.match(metric.name):
                        self.guard.observe(metric)

            def apply(metric: Metric, t: CompiledTransform = transform) -> Metric | None:
                if not t.pattern.match(metric.name):
                    return None if t.insert else metric
                changed: Metric | None = metric
                if t.renamer is not None:
                    changed = self.guard.rename(metric, t.renamer.new_name(metric.name) or metric.name)
                for edit in t.edits:
                    if changed is None:
                        break
                    changed = edit(changed)
                return changed

            transformed = map_metrics(data, apply)
            data = merge([data, transformed]) if transform.insert else transformed
        return data
