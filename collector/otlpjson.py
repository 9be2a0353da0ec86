"""OTLP/JSON as the Collector's file exporter writes it: protobuf's JSON mapping, enums as integers."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.sdk.metrics.export import MetricsData

from collector.metrics import merge


def to_request(data: MetricsData) -> ExportMetricsServiceRequest:
    """The SDK's own encoder, after merging equal resources/scopes it would otherwise overwrite."""
    return encode_metrics(merge([data]))


def request_to_dict(request: ExportMetricsServiceRequest) -> dict[str, Any]:
    """Protobuf's JSON mapping as the Collector writes it: camelCase keys, 64-bit integers as strings."""
    return json_format.MessageToDict(request, use_integers_for_enums=True)


def to_json_line(data: MetricsData) -> str:
    """One `ExportMetricsServiceRequest` on one line."""
    return json.dumps(request_to_dict(to_request(data)), separators=(",", ":"), allow_nan=True)
