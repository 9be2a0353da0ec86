"""OTLP `ExportMetricsServiceRequest` -> the SDK's `MetricsData`: the inverse of the SDK's own encoder.

Used by every component that takes OTLP in (the `otlp` receiver, on-disk queues). What the SDK model
cannot hold is dropped here, never half-built: a Summary metric (the SDK has no Summary type) and a
number point with no value are rejected and reported in `DecodeResult.rejected` so the receiver can
answer with an OTLP partial success. Fields the SDK model has no place for are lost silently and
documented: `Metric.metadata`, number/histogram point `flags` (exponential histograms keep theirs).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
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

__all__ = ["DecodeResult", "decode", "decode_attributes", "decode_request", "decode_value"]

_TEMPORALITIES = {t.value: t for t in AggregationTemporality}


@dataclass
class DecodeResult:
    """The decoded batch plus what could not be represented, by reason (points, not metrics)."""

    data: MetricsData
    points: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def rejected_points(self) -> int:
        return sum(self.rejected.values())

    def error_message(self) -> str:
        """One line for the OTLP partial-success `error_message`."""
        return "; ".join(f"{count} points dropped: {reason}" for reason, count in sorted(self.rejected.items()))


def decode_request(request: ExportMetricsServiceRequest) -> MetricsData:
    """The SDK's `MetricsData` for one request; unrepresentable points are left out (see `decode`)."""
    return decode(request).data


def decode(request: ExportMetricsServiceRequest) -> DecodeResult:
    result = DecodeResult(MetricsData(resource_metrics=[]))
    resources = []
    for pb_resource_metrics in request.resource_metrics:
        scopes = []
        for pb_scope_metrics in pb_resource_metrics.scope_metrics:
            metrics = [m for m in (_metric(pb, result) for pb in pb_scope_metrics.metrics) if m is not None]
            if metrics:
                pb_scope = pb_scope_metrics.scope
                scope = InstrumentationScope(
                    pb_scope.name,
                    pb_scope.version or None,
                    pb_scope_metrics.schema_url or None,
                    decode_attributes(pb_scope.attributes) or None,
                )
                scopes.append(ScopeMetrics(scope=scope, metrics=metrics, schema_url=pb_scope_metrics.schema_url))
        if scopes:
            resource = Resource(
                decode_attributes(pb_resource_metrics.resource.attributes), pb_resource_metrics.schema_url or None
            )
            resources.append(
                ResourceMetrics(resource=resource, scope_metrics=scopes, schema_url=pb_resource_metrics.schema_url)
            )
    result.data = MetricsData(resource_metrics=resources)
    return result


def decode_value(value: common_pb2.AnyValue) -> Any:
    """AnyValue -> the Python value the SDK's encoder turns back into the same AnyValue."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple(decode_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return decode_attributes(value.kvlist_value.values)
    return getattr(value, kind)


def decode_attributes(items: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {item.key: decode_value(item.value) for item in items}


def _metric(pb: metrics_pb2.Metric, result: DecodeResult) -> Metric | None:
    kind = pb.WhichOneof("data")
    data: Any
    points: list[Any]
    if kind == "gauge":
        points = _number_points(pb.gauge.data_points, result)
        data = Gauge(data_points=points)
    elif kind == "sum":
        temporality = _temporality(pb.sum.aggregation_temporality, pb.sum.data_points, result)
        if temporality is None:
            return None
        points = _number_points(pb.sum.data_points, result)
        data = Sum(data_points=points, aggregation_temporality=temporality, is_monotonic=pb.sum.is_monotonic)
    elif kind == "histogram":
        temporality = _temporality(pb.histogram.aggregation_temporality, pb.histogram.data_points, result)
        if temporality is None:
            return None
        points = [_histogram_point(p) for p in pb.histogram.data_points]
        data = Histogram(data_points=points, aggregation_temporality=temporality)
    elif kind == "exponential_histogram":
        body = pb.exponential_histogram
        temporality = _temporality(body.aggregation_temporality, body.data_points, result)
        if temporality is None:
            return None
        points = [_exponential_point(p) for p in body.data_points]
        data = ExponentialHistogram(data_points=points, aggregation_temporality=temporality)
    elif kind == "summary":
        _reject(result, len(pb.summary.data_points), "Summary metrics are not supported")
        return None
    else:  # no data at all: nothing to count, nothing to keep
        return None
    result.points += len(points)
    if not points:
        return None
    return Metric(name=pb.name, description=pb.description, unit=pb.unit, data=data)


def _reject(result: DecodeResult, points: int, reason: str) -> None:
    if points:
        result.rejected[reason] += points


def _temporality(value: int, points: Any, result: DecodeResult) -> AggregationTemporality | None:
    temporality = _TEMPORALITIES.get(value)
    if temporality is None:
        _reject(result, len(points), f"unknown aggregation temporality {value}")
    return temporality


def _number_points(pbs: Iterable[metrics_pb2.NumberDataPoint], result: DecodeResult) -> list[NumberDataPoint]:
    points = []
    for pb in pbs:
        kind = pb.WhichOneof("value")
        if kind is None:
            _reject(result, 1, "number data point without a value")
            continue
        points.append(NumberDataPoint(value=getattr(pb, kind), **_common(pb)))
    return points


def _histogram_point(pb: metrics_pb2.HistogramDataPoint) -> HistogramDataPoint:
    return HistogramDataPoint(
        **_common(pb),
        count=pb.count,
        sum=_optional(pb, "sum"),
        bucket_counts=tuple(pb.bucket_counts),
        explicit_bounds=tuple(pb.explicit_bounds),
        min=_optional(pb, "min"),
        max=_optional(pb, "max"),
    )


def _exponential_point(pb: metrics_pb2.ExponentialHistogramDataPoint) -> ExponentialHistogramDataPoint:
    return ExponentialHistogramDataPoint(
        **_common(pb),
        count=pb.count,
        sum=_optional(pb, "sum"),
        scale=pb.scale,
        zero_count=pb.zero_count,
        positive=Buckets(offset=pb.positive.offset, bucket_counts=tuple(pb.positive.bucket_counts)),
        negative=Buckets(offset=pb.negative.offset, bucket_counts=tuple(pb.negative.bucket_counts)),
        flags=pb.flags,
        min=_optional(pb, "min"),
        max=_optional(pb, "max"),
    )


def _common(pb: Any) -> dict[str, Any]:
    """The fields every kind of data point has."""
    return {
        "attributes": decode_attributes(pb.attributes),
        "start_time_unix_nano": pb.start_time_unix_nano,
        "time_unix_nano": pb.time_unix_nano,
        "exemplars": _exemplars(pb.exemplars),
    }


def _optional(pb: Any, name: str) -> Any:
    """An `optional` proto field: None when the sender left it out (e.g. a histogram without a sum).

    Typed Any because the SDK's point dataclasses type `sum`, `min` and `max` as numbers, while OTLP (and
    this collector) lets them be absent."""
    return getattr(pb, name) if pb.HasField(name) else None


def _exemplars(pbs: Iterable[metrics_pb2.Exemplar]) -> list[Exemplar]:
    exemplars = []
    for pb in pbs:
        kind = pb.WhichOneof("value")
        if kind is None:
            continue  # an exemplar without a value carries nothing the SDK model can hold
        exemplars.append(
            Exemplar(
                filtered_attributes=decode_attributes(pb.filtered_attributes),
                value=getattr(pb, kind),
                time_unix_nano=pb.time_unix_nano,
                span_id=int.from_bytes(pb.span_id, "big") if pb.span_id else None,
                trace_id=int.from_bytes(pb.trace_id, "big") if pb.trace_id else None,
            )
        )
    return exemplars
