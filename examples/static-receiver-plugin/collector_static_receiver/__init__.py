"""A receiver that emits configured points: the smallest complete plugin (see README.md)."""

from __future__ import annotations

import time
from typing import Literal

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from pydantic import Field

from collector.component import ConfigModel, Factory, Kind, KnowsMetricNames, Stability
from collector.scraperhelper import ScraperConfig, ScraperReceiver

SCOPE = InstrumentationScope("collector_static_receiver", "0.1.0")


class StaticMetric(ConfigModel):
    name: str = Field(min_length=1)
    type: Literal["gauge", "sum"] = "gauge"
    unit: str = ""
    value: float | int = 0
    increment: float | int = Field(0, ge=0, description="Added to a sum at every scrape.")
    attributes: dict[str, str] = Field(default_factory=dict)


class StaticConfig(ScraperConfig, KnowsMetricNames):
    metrics: list[StaticMetric] = Field(min_length=1)
    resource_attributes: dict[str, str] = Field(default_factory=dict)

    def known_metric_names(self) -> list[str]:
        """The optional cost hook (KnowsMetricNames): the names `collector validate` counts as billed metrics."""
        return [m.name for m in self.metrics]


class StaticReceiver(ScraperReceiver):
    config: StaticConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.start_time = time.time_ns()
        self.scrapes = 0
        self.resource = Resource.create({"service.name": "static", **self.config.resource_attributes})

    async def scrape(self) -> MetricsData:
        now = time.time_ns()
        metrics = [self._metric(spec, now) for spec in self.config.metrics]
        self.scrapes += 1
        return MetricsData([ResourceMetrics(self.resource, [ScopeMetrics(SCOPE, metrics, "")], "")])

    def _metric(self, spec: StaticMetric, now: int) -> Metric:
        if spec.type == "gauge":
            point = NumberDataPoint(dict(spec.attributes), 0, now, spec.value)
            return Metric(spec.name, "", spec.unit, Gauge([point]))
        value = spec.value + spec.increment * self.scrapes
        point = NumberDataPoint(dict(spec.attributes), self.start_time, now, value)
        return Metric(spec.name, "", spec.unit, Sum([point], AggregationTemporality.CUMULATIVE, True))


factory = Factory(
    type="static",
    kind=Kind.RECEIVER,
    config_model=StaticConfig,
    create=StaticReceiver,
    stability=Stability.ALPHA,
    description="Emits the points its config lists (example plugin).",
)
