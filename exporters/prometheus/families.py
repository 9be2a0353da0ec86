"""Accumulated series -> prometheus-client metric families, one family per Prometheus name.

Labels on every series: the point's attributes, `job`/`instance` from `service.namespace`/`service.name`
and `service.instance.id`, `otel_scope_name`/`otel_scope_version`, every resource attribute when
`resource_to_telemetry_conversion` is on, then `const_labels`. One `target_info` series per job/instance
carries the other resource attributes. A name seen with two types keeps the first; the other is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar
from prometheus_client.samples import Timestamp as PromTimestamp

from exporters.prometheus.accumulator import Accumulator, Series
from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.naming import clean, labels, metric_name

_IDENTITY = ("service.name", "service.namespace", "service.instance.id")


def job_and_instance(resource: dict[str, Any]) -> dict[str, str]:
    result = {}
    if "service.name" in resource:
        namespace = resource.get("service.namespace")
        result["job"] = f"{namespace}/{resource['service.name']}" if namespace else str(resource["service.name"])
    if "service.instance.id" in resource:
        result["instance"] = str(resource["service.instance.id"])
    return result


class SeriesCollector(Collector):
    """A prometheus-client collector reading the accumulator at scrape time."""

    def __init__(
        self,
        config: PrometheusConfig,
        accumulator: Accumulator,
        on_conflict: Callable[[str], None],
        created: bool,
    ) -> None:
        self.config = config
        self.accumulator = accumulator
        self.on_conflict = on_conflict
        self.created = created  # `_created` series: OpenMetrics has them, the Prometheus text format does not

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        targets: dict[tuple, dict[str, str]] = {}
        for series in self.accumulator.snapshot():
            name = metric_name(
                series.name,
                series.unit,
                counter=series.kind == "counter",
                gauge=series.kind == "gauge",
                namespace=self.config.namespace,
                suffixes=self.config.add_metric_suffixes,
            )
            family = families.get(name)
            if family is None:
                base = name[: -len("_total")] if series.kind == "counter" and name.endswith("_total") else name
                family = families[name] = Metric(base, series.description, series.kind)
            elif family.type != series.kind:
                self.on_conflict(f"{name}: {series.kind} dropped, already a {family.type}")
                continue
            identity = job_and_instance(series.resource)
            if identity:
                targets.setdefault(tuple(sorted(identity.items())), {**_target_labels(series.resource), **identity})
            self._add(family, name, series, self._labels(series, identity))
        if targets:
            info_name = f"{clean(self.config.namespace)}_target_info" if self.config.namespace else "target_info"
            info = Metric(info_name, "Target metadata", "gauge")
            for target in targets.values():
                info.add_sample(info_name, target, 1.0)
            yield info
        yield from families.values()

    def _labels(self, series: Series, identity: dict[str, str]) -> dict[str, str]:
        result: dict[str, str] = {}
        if self.config.resource_to_telemetry_conversion.enabled:
            result.update(labels(series.resource))
        result.update(labels(dict(series.point.attributes or {})))
        if series.scope_name:
            result["otel_scope_name"] = series.scope_name
        if series.scope_version:
            result["otel_scope_version"] = series.scope_version
        result.update(identity)
        result.update(self.config.const_labels)
        return result

    def _add(self, family: Metric, name: str, series: Series, labels_: dict[str, str]) -> None:
        point = series.point
        timestamp = _timestamp(point.time_unix_nano) if self.config.send_timestamps else None
        if series.kind == "gauge":
            family.add_sample(name, labels_, float(point.value), timestamp)
            return
        if series.kind == "counter":
            exemplar = _exemplar(point.exemplars[-1]) if point.exemplars else None
            family.add_sample(name, labels_, float(point.value), timestamp, exemplar)
        else:
            self._histogram(family, point, labels_, timestamp)
        if self.created and point.start_time_unix_nano:
            family.add_sample(f"{family.name}_created", labels_, point.start_time_unix_nano / 1e9, timestamp)

    @staticmethod
    def _histogram(family: Metric, point: Any, labels_: dict[str, str], timestamp: Any) -> None:
        bounds = [*point.explicit_bounds, math.inf]
        exemplars = _bucket_exemplars(point, bounds)
        cumulative = 0
        for bound, count, exemplar in zip(bounds, point.bucket_counts, exemplars, strict=False):
            cumulative += count
            le = "+Inf" if bound == math.inf else _float_text(bound)
            family.add_sample(f"{family.name}_bucket", {**labels_, "le": le}, float(cumulative), timestamp, exemplar)
        if len(point.bucket_counts) < len(bounds):  # malformed: fewer counts than bounds; +Inf must exist
            family.add_sample(f"{family.name}_bucket", {**labels_, "le": "+Inf"}, float(point.count), timestamp)
        family.add_sample(f"{family.name}_count", labels_, float(point.count), timestamp)
        if point.sum is not None:
            family.add_sample(f"{family.name}_sum", labels_, float(point.sum), timestamp)


def _target_labels(resource: dict[str, Any]) -> dict[str, str]:
    return labels({k: v for k, v in resource.items() if k not in _IDENTITY})


def _timestamp(nanos: int) -> PromTimestamp:
    return PromTimestamp(nanos // 1_000_000_000, nanos % 1_000_000_000)


def _exemplar(exemplar: Any) -> Exemplar:
    ids = {}
    if exemplar.trace_id:
        ids["trace_id"] = f"{exemplar.trace_id:032x}"
    if exemplar.span_id:
        ids["span_id"] = f"{exemplar.span_id:016x}"
    return Exemplar(ids, float(exemplar.value), exemplar.time_unix_nano / 1e9 if exemplar.time_unix_nano else None)


def _bucket_exemplars(point: Any, bounds: list[float]) -> list[Exemplar | None]:
    """The largest exemplar in each bucket (the spec's rule for pull endpoints)."""
    best: list[Any] = [None] * len(bounds)
    for exemplar in point.exemplars or []:
        index = next((i for i, bound in enumerate(bounds) if exemplar.value <= bound), len(bounds) - 1)  # NaN: last
        if best[index] is None or exemplar.value > best[index].value:
            best[index] = exemplar
    return [_exemplar(e) if e is not None else None for e in best]


def _float_text(value: float) -> str:
    return repr(float(value))
