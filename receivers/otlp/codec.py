"""Bytes <-> OTLP messages for both transports, and the outcome of one export call.

OTLP/JSON differs from protobuf's JSON mapping in one place that matters for metrics: exemplar
`traceId`/`spanId` are hex, not base64 (both are accepted). Unknown fields are ignored, as the OTLP
spec requires.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsPartialSuccess,
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CONTENT_TYPES = (PROTOBUF, JSON)


class MalformedRequest(ValueError):
    """The body is not an OTLP request: answered with 400 / INVALID_ARGUMENT."""


class RequestTooLarge(ValueError):
    """The body (or what it inflates to) exceeds the limit: 413 / RESOURCE_EXHAUSTED."""


def parse_protobuf(body: bytes) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    try:
        request.ParseFromString(body)
    except (DecodeError, RuntimeError) as exc:  # RuntimeError: recursion limit on hostile nesting
        raise MalformedRequest(f"invalid protobuf body: {exc}") from None
    return request


def parse_json(body: bytes) -> ExportMetricsServiceRequest:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedRequest(f"invalid JSON body: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedRequest("invalid JSON body: expected an object with resourceMetrics")
    _hex_ids_to_base64(document)
    try:
        return json_format.ParseDict(document, ExportMetricsServiceRequest(), ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, TypeError, ValueError) as exc:
        raise MalformedRequest(f"invalid OTLP/JSON body: {exc}") from None


_ID_BYTES = {"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8}


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    """Rewrite hex exemplar ids in place so protobuf's JSON parser (base64 for bytes) accepts them.

    An id of exactly twice its byte length in hex digits is hex (OTLP/JSON); anything else is left for
    the protobuf parser, so base64 ids (protobuf's own JSON mapping) are accepted too.
    """
    for exemplar in _exemplars(document):
        for key, size in _ID_BYTES.items():
            value = exemplar.get(key)
            if isinstance(value, str) and len(value) == 2 * size:
                try:
                    exemplar[key] = base64.b64encode(bytes.fromhex(value)).decode()
                except ValueError:
                    raise MalformedRequest(f"invalid OTLP/JSON body: exemplar {key} {value!r} is not hex") from None


def _exemplars(document: dict[str, Any]):
    for rm in _list(document, "resourceMetrics", "resource_metrics"):
        for sm in _list(rm, "scopeMetrics", "scope_metrics"):
            for metric in _list(sm, "metrics"):
                if not isinstance(metric, dict):
                    continue
                for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "exponential_histogram"):
                    body = metric.get(kind)
                    if isinstance(body, dict):
                        for point in _list(body, "dataPoints", "data_points"):
                            yield from (e for e in _list(point, "exemplars") if isinstance(e, dict))


def _list(node: Any, *keys: str) -> list[Any]:
    if not isinstance(node, dict):
        return []
    for key in keys:
        value = node.get(key)
        if isinstance(value, list):
            return value
    return []


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """Inflate a gzip/deflate body, refusing to produce more than `limit` bytes (no zip bombs)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise MalformedRequest(f"unsupported Content-Encoding {encoding!r}: use gzip, deflate or none")
    inflater = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
    try:
        out = inflater.decompress(body, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise RequestTooLarge(f"decompressed body exceeds max_request_body_size ({limit} bytes)")
        out += inflater.flush()
    except zlib.error as exc:
        raise MalformedRequest(f"invalid {encoding} body: {exc}") from None
    if not inflater.eof:
        raise MalformedRequest(f"invalid {encoding} body: truncated")
    return out


@dataclass(frozen=True)
class Outcome:
    """What one export call answers, whatever the transport."""

    rejected_points: int = 0
    error_message: str = ""

    def response(self) -> ExportMetricsServiceResponse:
        if not self.rejected_points and not self.error_message:
            return ExportMetricsServiceResponse()
        return ExportMetricsServiceResponse(
            partial_success=ExportMetricsPartialSuccess(
                rejected_data_points=self.rejected_points, error_message=self.error_message
            )
        )


def encode(message: Message, content_type: str) -> bytes:
    if content_type == JSON:
        return json_format.MessageToJson(message, indent=None).encode()
    return message.SerializeToString()
