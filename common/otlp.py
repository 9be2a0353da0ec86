"""What the `otlp` (gRPC) and `otlphttp` exporters share: config keys, error classes, partial success.

Both send the SDK's own `ExportMetricsServiceRequest` (built by `collector.otlpjson.to_request`, which
merges equal resources first) with one attempt per `export` call: retrying is the sending queue's job
(`collector.exporterhelper.QueuedSender`), so the SDK exporters' own retry loops are not used.
"""

from __future__ import annotations

import abc
import logging
from typing import Annotated, Any, Literal

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import BeforeValidator, Field, SecretStr, WithJsonSchema, field_validator

from collector.component import ConfigModel, CreateSettings, Exporter, TransientError
from collector.configtls import TLSClientConfig
from collector.configtypes import Refused
from collector.executors import OwnedExecutor
from collector.exporterhelper import SendingConfig
from collector.otlpjson import to_request

PARTIAL_SUCCESS_REASON = "rejected_by_backend"
"""`reason` label of `collector_dropped_metric_points` for points a backend's partial success refused."""


def without_userinfo(url: str) -> str:
    """The URL with any `user:password@` removed, for messages and logs; works on URLs too broken to parse."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority = rest[:end].rpartition("@")[2]
    return f"{scheme}{separator}{authority}{rest[end:]}"


_UNAVAILABLE_COMPRESSIONS = ("snappy", "zstd", "zlib", "lz4", "x-snappy-framed")
_AUTH = (
    "authenticator extensions are not available: send credentials as headers (e.g. authorization: Bearer ${env:TOKEN})"
)


def _compression(value: Any) -> Any:
    if value == "":
        return "none"  # the Collector's spelling of no compression, too
    if value in _UNAVAILABLE_COMPRESSIONS:
        raise ValueError(f"compression {value!r} is not supported: use gzip (the default), deflate or none")
    return value


class CompressionParams(ConfigModel):
    level: int = Field(6, ge=1, le=9, description="gzip/deflate level; 6 is Go's (and the Collector's) default.")


class OTLPTLSConfig(TLSClientConfig):
    server_name_override: str | None = Field(
        None, description="gRPC: the name the server's certificate must carry, when it is not the endpoint's host."
    )


class OTLPClientConfig(SendingConfig):
    """Keys common to `otlp` and `otlphttp`; the sending keys (timeout, retry, queue) come with SendingConfig."""

    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Sent with every request; write secrets as ${env:VAR}. Values are never logged.",
    )
    compression: Annotated[
        Literal["gzip", "deflate", "none"],
        BeforeValidator(_compression),
        WithJsonSchema({"enum": ["gzip", "deflate", "none", ""]}),
    ] = "gzip"
    compression_params: CompressionParams = CompressionParams()
    tls: OTLPTLSConfig = OTLPTLSConfig()
    auth: Annotated[Any, Refused(_AUTH)] = None
    middlewares: Annotated[Any, Refused("middleware extensions are not available")] = None
    read_buffer_size: Annotated[Any, Refused("buffers are sized by the client library")] = None
    write_buffer_size: Annotated[Any, Refused("buffers are sized by the client library")] = None

    @field_validator("headers")
    @classmethod
    def _clean_headers(cls, headers: dict[str, SecretStr]) -> dict[str, SecretStr]:
        for name, value in headers.items():
            if not name.strip() or any(c in name for c in " :\r\n"):
                raise ValueError(f"header name {name!r} is not a valid HTTP header name")
            if any(c in value.get_secret_value() for c in "\r\n\0"):
                raise ValueError(f"header {name!r}: the value contains a line break or NUL")  # value not shown
        return headers

    def header_items(self) -> list[tuple[str, str]]:
        return [(name, value.get_secret_value()) for name, value in self.headers.items()]


class RetryableExportError(TransientError):
    """A failure the OTLP spec calls transient. `retry_after` (seconds) is the server's own hint
    (HTTP Retry-After, gRPC RetryInfo); the sending queue waits at least that long."""


class PartialSuccessReport:
    """Counts the points a backend's partial-success answer rejected; logs once per change of its message."""

    def __init__(self, settings: CreateSettings, logger: logging.LoggerAdapter) -> None:
        self.rejected = settings.telemetry.dropped_points.labels(
            component=str(settings.id), reason=PARTIAL_SUCCESS_REASON
        )
        self.logger = logger
        self._last: tuple[bool, str] | None = None

    def record(self, response: ExportMetricsServiceResponse) -> None:
        partial = response.partial_success
        rejected, message = partial.rejected_data_points, partial.error_message
        if rejected:
            self.rejected.inc(rejected)
        state = (rejected > 0, message) if (rejected or message) else None
        if state == self._last:
            return
        self._last = state
        if state is None:
            self.logger.info("backend accepts every point again")
        elif rejected:
            self.logger.warning(
                "backend rejected part of a batch: %s", message or "(no message)", extra={"rejected_points": rejected}
            )
        else:
            self.logger.warning("backend accepted the batch with a warning: %s", message)


class OTLPExporter(Exporter):
    """One request per `export`; subclasses say how a request travels (`_send`)."""

    config: OTLPClientConfig

    def __init__(self, settings: CreateSettings, config: OTLPClientConfig) -> None:
        super().__init__(settings, config)
        self.partial_success = PartialSuccessReport(settings, self.logger)
        self._encoder = OwnedExecutor(f"encode-{self.id}", config.sending_queue.num_consumers)

    async def export(self, data: MetricsData) -> None:
        # Encoding is pure-Python work proportional to the batch: off the event loop, on our own threads.
        # Nothing is sent yet, so a timeout may abandon it (`submit`, not `run`).
        request = await self._encoder.submit(to_request, data)
        response = await self._send(request)
        self.partial_success.record(response)

    @abc.abstractmethod
    async def _send(self, request: ExportMetricsServiceRequest) -> ExportMetricsServiceResponse:
        """Deliver one request: raise RetryableExportError or PermanentError on failure."""
