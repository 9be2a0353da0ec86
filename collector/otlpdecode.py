"""OTLP protobuf -> the SDK's `MetricsData`: the inverse of the SDK's `encode_metrics`.

Used wherever OTLP bytes come back into the pipeline: the on-disk sending queue reads its batches
back with it, and an OTLP receiver turns requests into data the same way. Summaries (which the SDK has
no type for) and exemplars (which no exporter here ships) are not decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
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

from collector.otlpjson import to_request


def encode(data: MetricsData) -> bytes:
    """MetricsData as serialized ExportMetricsServiceRequest bytes (the SDK's encoder)."""
    return to_request(data).SerializeToString()


def decode(payload: bytes) -> MetricsData:
    """Serialized ExportMetricsServiceRequest bytes back to MetricsData."""
    request = ExportMetricsServiceRequest()
    request.ParseFromString(payload)
    return from_request(request)


def from_request(request: ExportMetricsServiceRequest) -> MetricsData:
    return MetricsData(
        resource_metrics=[
            ResourceMetrics(
                resource=Resource(_attributes(rm.resource.attributes), rm.schema_url),
                scope_metrics=[
                    ScopeMetrics(
                        scope=InstrumentationScope(
                            sm.scope.name,
                            sm.scope.version or None,
                            sm.schema_url or None,
                            _attributes(sm.scope.attributes) or None,
                        ),
                        metrics=[m for m in (_metric(pb) for pb in sm.metrics) if m is not None],
                        schema_url=sm.schema_url,
                    )
                    for sm in rm.scope_metrics
                ],
                schema_url=rm.schema_url,
            )
            for rm in request.resource_metrics
        ]
    )


def _any_value(value: common_pb2.AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_any_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def _attributes(items: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    return {item.key: _any_value(item.value) for item in items}


def _number(point: metrics_pb2.NumberDataPoint) -> NumberDataPoint:
    value = point.as_int if point.WhichOneof("value") == "as_int" else point.as_double
    return NumberDataPoint(_attributes(point.attributes), point.start_time_unix_nano, point.time_unix_nano, value)


def _min_max(point: Any) -> dict[str, float]:
    """Optional in OTLP; the SDK's "not recorded" is +inf/-inf (what its encoder leaves out)."""
    return {
        "min": point.min if point.HasField("min") else float("inf"),
        "max": point.max if point.HasField("max") else float("-inf"),
    }


def _histogram(point: metrics_pb2.HistogramDataPoint) -> HistogramDataPoint:
    return HistogramDataPoint(
        attributes=_attributes(point.attributes),
        start_time_unix_nano=point.start_time_unix_nano,
        time_unix_nano=point.time_unix_nano,
        count=point.count,
        sum=point.sum,
        bucket_counts=list(point.bucket_counts),
        explicit_bounds=list(point.explicit_bounds),
        **_min_max(point),
    )


def _exponential(point: metrics_pb2.ExponentialHistogramDataPoint) -> ExponentialHistogramDataPoint:
    return ExponentialHistogramDataPoint(
        attributes=_attributes(point.attributes),
        start_time_unix_nano=point.start_time_unix_nano,
        time_unix_nano=point.time_unix_nano,
        count=point.count,
        sum=point.sum,
        scale=point.scale,
        zero_count=point.zero_count,
        positive=Buckets(point.positive.offset, list(point.positive.bucket_counts)),
        negative=Buckets(point.negative.offset, list(point.negative.bucket_counts)),
        flags=point.flags,
        **_min_max(point),
    )


def _metric(pb: metrics_pb2.Metric) -> Metric | None:
    kind = pb.WhichOneof("data")
    data: Gauge | Sum | Histogram | ExponentialHistogram
    if kind == "gauge":
        data = Gauge([_number(p) for p in pb.gauge.data_points])
    elif kind == "sum":
        data = Sum(
            [_number(p) for p in pb.sum.data_points],
            AggregationTemporality(pb.sum.aggregation_temporality),
            pb.sum.is_monotonic,
        )
    elif kind == "histogram":
        data = Histogram(
            [_histogram(p) for p in pb.histogram.data_points],
            AggregationTemporality(pb.histogram.aggregation_temporality),
        )
    elif kind == "exponential_histogram":
        data = ExponentialHistogram(
            [_exponential(p) for p in pb.exponential_histogram.data_points],
            AggregationTemporality(pb.exponential_histogram.aggregation_temporality),
        )
    else:  # summary (no SDK type) or an empty metric
        return None
    return Metric(pb.name, pb.description, pb.unit, data)
