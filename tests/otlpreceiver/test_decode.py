"""collector.otlpdecode is the inverse of the SDK's encoder (collector.otlpjson.to_request)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2

from collector.otlpdecode import decode, decode_request
from collector.otlpjson import to_request
from collector.testing import (
    CUMULATIVE,
    DELTA,
    NOW_NS,
    START_NS,
    Gauge,
    Sum,
    every_kind,
    gauge,
    metrics_data,
    number_point,
    sum_metric,
)


def test_every_kind_round_trips_through_the_sdk_encoder_unchanged():
    original = to_request(every_kind())
    decoded = decode_request(original)
    assert to_request(decoded) == original


def test_decoded_objects_carry_the_sdk_types_and_values():
    data = decode_request(to_request(every_kind()))
    (rm,) = data.resource_metrics
    assert rm.resource.attributes["host.ports"] == (8083, 7098)
    assert rm.resource.schema_url == "https://opentelemetry.io/schemas/1.21.0"
    (sm,) = rm.scope_metrics
    assert (sm.scope.name, sm.scope.version, sm.scope.schema_url) == ("collector.jmx", "1.2.3", "https://scope.schema")
    assert sm.scope.attributes == {"team": "data"}
    by_name = {m.name: m for m in sm.metrics}
    lag = by_name["debezium.streaming.MilliSecondsBehindSource"]
    assert isinstance(lag.data, Gauge) and lag.unit == "ms" and lag.description == "Lag behind the source database"
    assert [p.value for p in lag.data.data_points] == [1500, -2.25]
    assert isinstance(lag.data.data_points[0].value, int) and isinstance(lag.data.data_points[1].value, float)
    assert lag.data.data_points[0].attributes == {
        "server": "inventory",
        "plugin": "mysql",
        "ids": (1, 2, 3),
        "ok": True,
        "ratio": 0.5,
    }
    events = by_name["debezium.streaming.TotalNumberOfEventsSeen"].data
    assert isinstance(events, Sum) and events.is_monotonic
    assert events.aggregation_temporality is CUMULATIVE
    point = events.data_points[0]
    assert (point.start_time_unix_nano, point.time_unix_nano) == (START_NS, NOW_NS)
    (exemplar,) = point.exemplars
    assert (exemplar.value, exemplar.span_id) == (42.5, 0x1122334455667788)
    assert exemplar.filtered_attributes == {"query": "q1"}
    assert by_name["queue.remaining"].data.aggregation_temporality is DELTA
    histogram = by_name["request.duration"].data.data_points[0]
    assert (histogram.count, histogram.sum, histogram.min, histogram.max) == (6, 12.5, 0.1, 9.0)
    assert list(histogram.bucket_counts) == [1, 2, 3] and list(histogram.explicit_bounds) == [0.5, 1.0]
    exp = by_name["payload.size"].data.data_points[0]
    assert (exp.scale, exp.zero_count, exp.positive.offset, list(exp.positive.bucket_counts)) == (3, 1, 2, [1, 4, 4])
    assert (exp.negative.offset, list(exp.negative.bucket_counts)) == (-1, [0, 1])


def test_optional_histogram_fields_stay_absent():
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="h")
    metric.histogram.aggregation_temporality = 2
    metric.histogram.data_points.add(count=3, bucket_counts=[3], time_unix_nano=NOW_NS)
    point = decode_request(request).resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0]
    assert (point.sum, point.min, point.max) == (None, None, None)
    re_encoded = to_request(decode_request(request)).resource_metrics[0].scope_metrics[0].metrics[0]
    assert not re_encoded.histogram.data_points[0].HasField("sum")


def test_summary_and_valueless_points_are_rejected_and_counted_not_half_decoded():
    request = ExportMetricsServiceRequest()
    scope = request.resource_metrics.add().scope_metrics.add()
    summary = scope.metrics.add(name="legacy.summary")
    summary.summary.data_points.add(count=1, sum=2.0)
    summary.summary.data_points.add(count=1, sum=2.0)
    gauge = scope.metrics.add(name="g")
    gauge.gauge.data_points.add(as_int=7, time_unix_nano=NOW_NS)
    gauge.gauge.data_points.add(time_unix_nano=NOW_NS)  # no value
    scope.metrics.add(name="empty")  # no data at all
    result = decode(request)
    assert result.points == 1
    assert result.rejected == {"Summary metrics are not supported": 2, "number data point without a value": 1}
    assert result.rejected_points == 3
    assert "2 points dropped: Summary metrics are not supported" in result.error_message()
    (metric,) = result.data.resource_metrics[0].scope_metrics[0].metrics
    assert metric.name == "g" and [p.value for p in metric.data.data_points] == [7]


def test_unknown_temporality_rejects_the_metric():
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="s")
    metric.sum.aggregation_temporality = 7
    metric.sum.data_points.add(as_int=1)
    result = decode(request)
    assert result.data.resource_metrics == [] and result.rejected == {"unknown aggregation temporality 7": 1}


def test_kvlist_and_bytes_attributes_survive():
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name="g")
    point = metric.gauge.data_points.add(as_double=1.0)
    nested = common_pb2.AnyValue(
        kvlist_value=common_pb2.KeyValueList(
            values=[common_pb2.KeyValue(key="k", value=common_pb2.AnyValue(bytes_value=b"\x01\x02"))]
        )
    )
    point.attributes.add(key="nested", value=nested)
    decoded = decode_request(request)
    assert decoded.resource_metrics[0].scope_metrics[0].metrics[0].data.data_points[0].attributes == {
        "nested": {"k": b"\x01\x02"}
    }
    assert to_request(decoded).resource_metrics[0].scope_metrics[0].metrics[0] == metric


scalars = st.one_of(
    st.text(max_size=8),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
)
attribute_values = st.one_of(scalars, st.lists(scalars, max_size=4).map(tuple))
attribute_maps = st.dictionaries(st.text(min_size=1, max_size=8), attribute_values, max_size=5)
values = st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=False))


@given(
    resource=attribute_maps,
    points=st.lists(st.tuples(attribute_maps, values, st.integers(0, 2**63)), min_size=1, max_size=5),
    monotonic=st.booleans(),
    temporality=st.sampled_from([DELTA, CUMULATIVE]),
    unit=st.text(max_size=6),
)
def test_any_sum_or_gauge_round_trips(resource, points, monotonic, temporality, unit):
    number_points = [number_point(v, attrs, start=START_NS, time=t) for attrs, v, t in points]
    sums = sum_metric("sum", *number_points, temporality=temporality, monotonic=monotonic, unit=unit)
    data = metrics_data(sums, gauge("gauge", *number_points, unit=unit), resource=resource, scope="s")
    original = to_request(data)
    assert to_request(decode_request(original)) == original


def test_metric_with_unset_data_is_skipped():
    request = ExportMetricsServiceRequest(
        resource_metrics=[{"scope_metrics": [{"metrics": [metrics_pb2.Metric(name="nothing")]}]}]
    )
    assert decode(request).data.resource_metrics == []
