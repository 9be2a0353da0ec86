from __future__ import annotations

from opentelemetry.sdk.metrics.export import Metric, MetricsData

from collector.component import SimpleProcessor
from collector.metrics import map_metrics
from common.actions.rescale import Scaler
from common.matching import NamePattern
from processors.rescale.config import RescaleConfig


class RescaleProcessor(SimpleProcessor):
    """Multiplies values of matching metrics and sets their unit."""

    config: RescaleConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.rules: list[tuple[NamePattern, str | None, Scaler]] = [
            (rule.name_pattern(), rule.from_unit, rule.scaler()) for rule in self.config.rules
        ]
        self._chosen: dict[tuple[str, str], Scaler | None] = {}

    def process(self, data: MetricsData) -> MetricsData:
        return map_metrics(data, self._rescale)

    def _rescale(self, metric: Metric) -> Metric:
        key = (metric.name, metric.unit)
        if key in self._chosen:
            scaler = self._chosen[key]
        else:
            scaler = self._chosen[key] = self._choose(metric)
        return metric if scaler is None else scaler.apply(metric)

    def _choose(self, metric: Metric) -> Scaler | None:
        for pattern, from_unit, scaler in self.rules:
            if not pattern.match(metric.name):
                continue
            if from_unit is not None and metric.unit not in ("", from_unit):
                # once per name and unit: the choice is cached
                self.logger.warning(
                    "not rescaling metric %r: its unit is %r, the rule converts from %r",
                    metric.name,
                    metric.unit,
                    from_unit,
                )
                return None
            return scaler
        return None
