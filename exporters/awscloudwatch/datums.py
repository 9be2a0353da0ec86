"""MetricsData -> PutMetricData `MetricData` entries and requests within CloudWatch's limits:
≤ 1000 entries and ≤ 1 MB per request, ≤ 30 dimensions, metric names and dimensions as
common/aws/names.py has them, values finite and within ±2^360 (smaller than 2^-260 in
magnitude is sent as 0)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from opentelemetry.sdk.metrics.export import ExponentialHistogram, Gauge, Histogram, MetricsData, Sum

from collector.metrics import iter_metrics
from common.aws.cardinality import REASON as CARDINALITY_LIMIT
from common.aws.cardinality import SeriesGuard
from common.aws.histogram import MAX_MAGNITUDE, Unsendable, distribution
from common.aws.names import (
    INVALID_DIMENSION,
    INVALID_METRIC_NAME,
    MAX_DIMENSIONS,
    dimension_name_ok,
    dimension_value,
    metric_name_ok,
)
from common.aws.units import cloudwatch_unit
from exporters.awscloudwatch.config import AwsCloudWatchConfig

MAX_DATUMS_PER_REQUEST = 1000
MAX_REQUEST_BYTES = 1_000_000  # 1 MB; sizes are estimated as the (largest) query-protocol encoding
MIN_MAGNITUDE = 2.0**-260

Datum = dict[str, Any]


def _number(value: float) -> float | None:
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        return None
    return 0.0 if abs(value) < MIN_MAGNITUDE else value


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class DatumBuilder:
    def __init__(self, config: AwsCloudWatchConfig, on_drop: Callable[[str, int], None], guard: SeriesGuard) -> None:
        self.config = config
        self.on_drop = on_drop
        self.guard = guard

    def dimensions(self, attributes: dict[str, Any]) -> tuple[list[dict[str, str]], bool]:
        """The point's dimensions, and whether an attribute was left out because CloudWatch would refuse
        it as a dimension (name or value; a value over 1024 characters is cut first)."""
        rules = self.config.dimensions
        if rules is None:
            pairs = sorted((k, _string(v)) for k, v in attributes.items())
        else:
            pairs = [(r.dimension, _string(attributes[r.attribute])) for r in rules if r.attribute in attributes]
        dimensions = []
        for key, text in pairs:
            value = dimension_value(text)
            if value is not None and dimension_name_ok(key):
                dimensions.append({"Name": key, "Value": value})
        return dimensions, len(dimensions) < len(pairs)

    def datums(self, data: MetricsData) -> list[Datum]:
        out: list[Datum] = []
        now = self.guard.batch()
        for metric in iter_metrics(data):
            if not metric_name_ok(metric.name):
                self.on_drop(INVALID_METRIC_NAME, len(metric.data.data_points))
                continue
            unit = cloudwatch_unit(metric.unit)
            for point in metric.data.data_points:
                datum = self._datum(metric.name, unit, metric.data, point, now)
                if datum is not None:
                    out.append(datum)
        return out

    def _datum(self, name: str, unit: str, body: Any, point: Any, now: float) -> Datum | None:
        dimensions, left_out = self.dimensions(dict(point.attributes or {}))
        if len(dimensions) > MAX_DIMENSIONS:
            self.on_drop("too_many_dimensions", 1)
            return None
        if left_out:
            self.on_drop(INVALID_DIMENSION, 1)  # sent without the attributes CloudWatch would refuse
        datum: Datum = {
            "MetricName": name,
            "Dimensions": dimensions,
            "Timestamp": datetime.fromtimestamp(point.time_unix_nano / 1e9, UTC),
            "Unit": unit,
            "StorageResolution": self.config.storage_resolution,
        }
        if isinstance(body, Gauge | Sum):
            value = _number(float(point.value))
            if value is None:
                self.on_drop("non_finite", 1)
                return None
            datum["Value"] = value
        elif isinstance(body, Histogram | ExponentialHistogram):
            try:
                dist = distribution(point)
            except Unsendable as exc:
                self.on_drop(exc.reason, 1)
                return None
            if dist is None:
                return None  # no observation in the window: nothing to add
            datum["Values"] = [0.0 if abs(v) < MIN_MAGNITUDE else v for v in dist.values]
            datum["Counts"] = dist.counts
        else:
            self.on_drop("unsupported_type", 1)
            return None
        if self.guard.admit_names(tuple([(d["Name"], d["Value"]) for d in dimensions]), {name}, now):
            self.on_drop(CARDINALITY_LIMIT, 1)  # a new custom metric over max_series_per_metric
            return None
        return datum


def encoded_size(datum: Datum, index: int = 1000) -> int:
    """Bytes of this entry in a query-protocol body (`MetricData.member.N.Key=value&`), the largest of
    the protocols boto3 may use, so a request within the limit here is within it on the wire."""
    prefix = f"MetricData.member.{index}."
    size = 0
    for key, value in datum.items():
        if key == "Dimensions":
            for i, dim in enumerate(value, 1):
                size += (
                    2 * len(f"{prefix}Dimensions.member.{i}.Name=&")
                    + len(quote(dim["Name"]))
                    + len(quote(dim["Value"]))
                )
        elif isinstance(value, list):
            size += sum(len(f"{prefix}{key}.member.{i}={v!r}&") for i, v in enumerate(value, 1))
        else:
            text = value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if isinstance(value, datetime) else str(value)
            size += len(f"{prefix}{key}={quote(text)}&")
    return size


def plan_requests(datums: list[Datum], namespace: str) -> list[list[Datum]]:
    """≤ 1000 entries and ≤ 1 MB (estimated) per request, in order."""
    base = len(f"Action=PutMetricData&Version=2010-08-01&Namespace={quote(namespace)}")
    requests: list[list[Datum]] = []
    current: list[Datum] = []
    size = base
    for datum in datums:
        datum_size = encoded_size(datum)
        if current and (len(current) >= MAX_DATUMS_PER_REQUEST or size + datum_size > MAX_REQUEST_BYTES):
            requests.append(current)
            current, size = [], base
        current.append(datum)
        size += datum_size
    if current:
        requests.append(current)
    return requests
