"""The test kit for components, the collector's own and plugin authors': the Collector's componenttest.

Build `MetricsData` without writing out the SDK's nesting, create a component the way the service does
(validated config, settings with a real `Telemetry`), start it with a `NopHost` and record what it hands
on with a `RecordingConsumer`. The running collector never imports this module.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.metrics._internal.exemplar import Exemplar
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Buckets,
    ExponentialHistogram,
    ExponentialHistogramDataPoint,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from collector.component import (
    Component,
    ComponentError,
    ComponentID,
    Consumer,
    CreateSettings,
    Extension,
    Factory,
    Kind,
    ScrapeTargets,
    ServiceDescription,
)
from collector.logs import component_logger
from collector.metrics import iter_metrics
from collector.telemetry import Telemetry

__all__ = [
    "CUMULATIVE",
    "DELTA",
    "NOW_NS",
    "START_NS",
    "AggregationTemporality",
    "Buckets",
    "Exemplar",
    "ExponentialHistogram",
    "ExponentialHistogramDataPoint",
    "Gauge",
    "Histogram",
    "HistogramDataPoint",
    "InstrumentationScope",
    "Metric",
    "MetricsData",
    "NopHost",
    "NumberDataPoint",
    "RecordingConsumer",
    "RefusingConsumer",
    "Resource",
    "ResourceMetrics",
    "ScopeMetrics",
    "Sum",
    "create",
    "create_settings",
    "data_points",
    "dropped_points",
    "every_kind",
    "exponential_histogram",
    "exponential_histogram_point",
    "gauge",
    "histogram",
    "histogram_point",
    "metric_names",
    "metrics_by_name",
    "metrics_data",
    "number_point",
    "sum_metric",
]

CUMULATIVE = AggregationTemporality.CUMULATIVE
DELTA = AggregationTemporality.DELTA

NOW_NS = time.time_ns()
"""The time of every point built without one: taken once, so the points of a test share one timestamp
(an exporter rightly splits points a millisecond apart), and recent, so backends that refuse old points
(CloudWatch) take them."""

START_NS = NOW_NS - 60_000_000_000
"""The start of every cumulative point built without one: a minute before `NOW_NS`."""

TEST_SCOPE = InstrumentationScope("collector.testing")

# ---------------------------------------------------------------------------------------------------
# Data points


def number_point(
    value: float,
    attributes: Mapping[str, Any] | None = None,
    *,
    start: int = 0,
    time: int | None = None,
    exemplars: Sequence[Exemplar] = (),
) -> NumberDataPoint:
    """A gauge or sum point; `start` 0 is "unknown", as gauges carry it."""
    return NumberDataPoint(dict(attributes or {}), start, NOW_NS if time is None else time, value, list(exemplars))


def histogram_point(
    counts: Sequence[int],
    bounds: Sequence[float],
    total: float,
    attributes: Mapping[str, Any] | None = None,
    *,
    start: int = START_NS,
    time: int | None = None,
    min: float | None = None,
    max: float | None = None,
    exemplars: Sequence[Exemplar] = (),
) -> HistogramDataPoint:
    """An explicit-bucket point: `counts` has one more entry than `bounds`; the count is their sum.
    `min`/`max` `None` means not recorded (OTLP leaves them out)."""
    return HistogramDataPoint(
        dict(attributes or {}),
        start,
        NOW_NS if time is None else time,
        sum(counts),
        total,
        list(counts),
        list(bounds),
        min,  # type: ignore[arg-type]  # the SDK annotates float; OTLP leaves min out when not recorded
        max,  # type: ignore[arg-type]  # the SDK annotates float; OTLP leaves max out when not recorded
        list(exemplars),
    )


def exponential_histogram_point(
    scale: int,
    positive: Sequence[int],
    total: float,
    attributes: Mapping[str, Any] | None = None,
    *,
    positive_offset: int = 0,
    negative: Sequence[int] = (),
    negative_offset: int = 0,
    zero_count: int = 0,
    start: int = START_NS,
    time: int | None = None,
    min: float = 0.0,
    max: float = 0.0,
    exemplars: Sequence[Exemplar] = (),
) -> ExponentialHistogramDataPoint:
    """A base-2 exponential point; the count is the buckets' sum plus `zero_count`."""
    return ExponentialHistogramDataPoint(
        dict(attributes or {}),
        start,
        NOW_NS if time is None else time,
        sum(positive) + sum(negative) + zero_count,
        total,
        scale,
        zero_count,
        Buckets(positive_offset, list(positive)),
        Buckets(negative_offset, list(negative)),
        0,
        min,
        max,
        list(exemplars),
    )


# ---------------------------------------------------------------------------------------------------
# Metrics: a plain number stands for a point with the given attributes and times


def gauge(
    name: str,
    *points: NumberDataPoint | float,
    attributes: Mapping[str, Any] | None = None,
    time: int | None = None,
    unit: str = "",
    description: str = "",
) -> Metric:
    return Metric(name, description, unit, Gauge(_number_points(points, attributes, 0, time)))


def sum_metric(
    name: str,
    *points: NumberDataPoint | float,
    temporality: AggregationTemporality = CUMULATIVE,
    monotonic: bool = True,
    attributes: Mapping[str, Any] | None = None,
    start: int = START_NS,
    time: int | None = None,
    unit: str = "",
    description: str = "",
) -> Metric:
    """A sum, by default what a counter makes: monotonic, cumulative since `START_NS`."""
    return Metric(name, description, unit, Sum(_number_points(points, attributes, start, time), temporality, monotonic))


def histogram(
    name: str,
    *points: HistogramDataPoint,
    temporality: AggregationTemporality = CUMULATIVE,
    unit: str = "",
    description: str = "",
) -> Metric:
    return Metric(name, description, unit, Histogram(list(points), temporality))


def exponential_histogram(
    name: str,
    *points: ExponentialHistogramDataPoint,
    temporality: AggregationTemporality = CUMULATIVE,
    unit: str = "",
    description: str = "",
) -> Metric:
    return Metric(name, description, unit, ExponentialHistogram(list(points), temporality))


def _number_points(
    points: Iterable[NumberDataPoint | float], attributes: Mapping[str, Any] | None, start: int, time: int | None
) -> list[NumberDataPoint]:
    return [
        p if isinstance(p, NumberDataPoint) else number_point(p, attributes, start=start, time=time) for p in points
    ]


# ---------------------------------------------------------------------------------------------------
# Batches


def metrics_data(
    *metrics: Metric,
    resource: Resource | Mapping[str, Any] | None = None,
    scope: InstrumentationScope | str = TEST_SCOPE,
) -> MetricsData:
    """One resource (no attributes unless given), one scope, these metrics: what one scrape emits."""
    if not isinstance(resource, Resource):
        resource = Resource(dict(resource or {}))
    if isinstance(scope, str):
        scope = InstrumentationScope(scope)
    return MetricsData([ResourceMetrics(resource, [ScopeMetrics(scope, list(metrics), "")], "")])


def metric_names(*batches: MetricsData | None) -> list[str]:
    """The names of every metric in these batches, in order (`None`, a dropped batch, has none)."""
    return [metric.name for data in batches if data is not None for metric in iter_metrics(data)]


def metrics_by_name(data: MetricsData | None) -> dict[str, Metric]:
    return {} if data is None else {metric.name: metric for metric in iter_metrics(data)}


def data_points(data: MetricsData | None, name: str | None = None) -> list[Any]:
    """Every point of the batch (of the metric `name` only, if given), in order."""
    if data is None:
        return []
    return [point for metric in iter_metrics(data) if name in (None, metric.name) for point in metric.data.data_points]


def every_kind() -> MetricsData:
    """One batch that sets every field the SDK model has: every metric kind and temporality, int and
    float values, exemplars, array and bool attributes, schema URLs, a scope with version and attributes.
    For codecs and exporters: what survives this survives anything."""
    attrs = {"server": "inventory", "plugin": "mysql", "ids": (1, 2, 3), "ok": True, "ratio": 0.5}
    exemplar = Exemplar({"query": "q1"}, 42.5, NOW_NS, span_id=0x1122334455667788, trace_id=0xAABB << 64 | 0xCCDD)
    metrics = [
        gauge(
            "debezium.streaming.MilliSecondsBehindSource",
            number_point(1500, attrs),
            number_point(-2.25, {"server": "b"}),
            unit="ms",
            description="Lag behind the source database",
        ),
        sum_metric(
            "debezium.streaming.TotalNumberOfEventsSeen",
            number_point(12345, attrs, start=START_NS, exemplars=[exemplar]),
            unit="{event}",
        ),
        sum_metric("queue.remaining", 3.5, attributes={"q": "a"}, temporality=DELTA, monotonic=False, unit="1"),
        histogram(
            "request.duration",
            histogram_point((1, 2, 3), (0.5, 1.0), 12.5, {"route": "/x"}, min=0.1, max=9.0, exemplars=[exemplar]),
            temporality=DELTA,
            unit="s",
            description="How long requests took",
        ),
        exponential_histogram(
            "payload.size",
            exponential_histogram_point(
                3,
                (1, 4, 4),
                123.0,
                {"dir": "in"},
                positive_offset=2,
                negative=(0, 1),
                negative_offset=-1,
                zero_count=1,
                min=-1.0,
                max=5.0,
            ),
            unit="By",
        ),
    ]
    schema = "https://opentelemetry.io/schemas/1.21.0"
    scope = InstrumentationScope("collector.jmx", "1.2.3", "https://scope.schema", {"team": "data"})
    resource = Resource({"service.name": "connect", "host.ports": (8083, 7098)}, schema)
    return MetricsData([ResourceMetrics(resource, [ScopeMetrics(scope, metrics, "https://scope.schema")], schema)])


# ---------------------------------------------------------------------------------------------------
# Components


def dropped_points(component: Component[Any], reason: str) -> float:
    """The points `component` dropped for `reason` (`collector_dropped_metric_points`), as its telemetry counts."""
    return component.settings.telemetry.value("collector_dropped_metric_points", component=component.id, reason=reason)


class RecordingConsumer:
    """A receiver's or processor's next consumer that keeps every batch it is handed, in order."""

    def __init__(self) -> None:
        self.batches: list[MetricsData] = []

    async def consume(self, data: MetricsData) -> None:
        self.batches.append(data)

    def points(self, name: str | None = None) -> list[Any]:
        return [point for data in self.batches for point in data_points(data, name)]

    def metric_names(self) -> list[str]:
        return metric_names(*self.batches)


class RefusingConsumer:
    """A next consumer that refuses every batch with `error` (as a full queue or a memory limit does)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error or RuntimeError("refused by RefusingConsumer")
        self.calls = 0

    async def consume(self, data: MetricsData) -> None:
        self.calls += 1
        raise self.error


@dataclass
class StatusReport:
    component_id: str
    status: str
    detail: str


@dataclass
class NopHost:
    """A `Host` with nothing running but the extensions it is given: for starting one component alone.

    It keeps every status report (`reports`), so a test can assert what a component said and when.
    """

    extensions: Mapping[str, Extension[Any]] = field(default_factory=dict)
    telemetry: Telemetry = field(default_factory=Telemetry)
    state: str = "running"
    scrape_targets: ScrapeTargets = field(default_factory=ScrapeTargets)
    reports: list[StatusReport] = field(default_factory=list)

    def extension(self, component_id: str) -> Extension[Any]:
        try:
            return self.extensions[component_id]
        except KeyError:
            known = list(self.extensions)
            raise ComponentError(f"extension {component_id!r} is not running (NopHost has {known})") from None

    def report_status(self, component_id: str, status: str, detail: str = "") -> None:
        self.reports.append(StatusReport(component_id, status, detail))

    def component_statuses(self) -> dict[str, StatusReport]:
        return {report.component_id: report for report in self.reports}

    def describe(self) -> ServiceDescription:
        return ServiceDescription(pipelines=(), extensions=tuple(self.extensions), components=())


def create_settings(kind: Kind, component_id: str, telemetry: Telemetry | None = None) -> CreateSettings:
    """What a factory gets from the service: the id, a fresh `Telemetry` unless given, the component logger."""
    cid = ComponentID.parse(component_id)
    return CreateSettings(cid, kind, telemetry or Telemetry(), component_logger(kind, str(cid)))


def create(
    factory: Factory[Any],
    config: Mapping[str, Any] | None = None,
    *,
    name: str = "",
    consumer: Consumer | None = None,
    telemetry: Telemetry | None = None,
) -> Any:
    """A component built as the service builds it: `config` validated by the factory's model (its
    defaults when `None`), settings for `type/name`, and for a receiver or processor `consumer` as the next
    consumer (a fresh `RecordingConsumer` when not given, reachable as `component.consumer` or
    `component.next_consumer`)."""
    component_id = f"{factory.type}/{name}" if name else factory.type
    settings = create_settings(factory.kind, component_id, telemetry)
    model = factory.config_model.model_validate(dict(config or {}))
    if factory.kind in (Kind.RECEIVER, Kind.PROCESSOR):
        component: Component[Any] = factory.create(settings, model, consumer or RecordingConsumer())
    else:
        component = factory.create(settings, model)
    return component
