from __future__ import annotations

from opentelemetry.sdk.metrics.export import Metric, MetricsData
from pydantic import Field, field_validator

from collector.component import ConfigModel, Factory, Kind, SimpleProcessor, Stability
from collector.metrics import iter_metrics, map_metrics
from common.actions.rename import RenameGuard, Renamer
from common.matching import NameRule, check_new_name


class RenameRule(NameRule):
    new_name: str = Field(min_length=1, description="Regexp rules may use $1, ${1} or ${name} (write $$ in YAML).")

    _check_new_name = field_validator("new_name")(check_new_name)


class RenameConfig(ConfigModel):
    rules: list[RenameRule] = Field(min_length=1, description="Tried in order; the first match wins.")

    def renamer(self) -> Renamer:
        return Renamer([(rule.name_pattern(), rule.new_name) for rule in self.rules])

    def map_metric_names(self, names: frozenset[str]) -> frozenset[str]:
        """`collector validate`'s hook (collector/costhints.py): the names after renaming."""
        renamer = self.renamer()
        return frozenset(renamer.new_name(name) or name for name in names)


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


factory = Factory(
    type="rename",
    kind=Kind.PROCESSOR,
    config_model=RenameConfig,
    create=RenameProcessor,
    stability=Stability.BETA,
    description="Renames metrics by strict name or regexp with capture groups.",
)
