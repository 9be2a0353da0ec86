from __future__ import annotations

import grpc
from google.protobuf.duration_pb2 import Duration as DurationProto
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2_grpc import MetricsServiceStub

from collector.component import Host, PermanentError
from common.otlp import OTLPExporter, RetryableExportError
from exporters.otlp.config import OTLPGrpcConfig

# OTLP spec, "OTLP/gRPC Response": these codes are transient. RESOURCE_EXHAUSTED is only when the
# server says when to come back (RetryInfo); every other code is permanent.
RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)

RETRY_INFO_KEY = "google.rpc.retryinfo-bin"  # what the OTel SDKs read
STATUS_DETAILS_KEY = "grpc-status-details-bin"  # google.rpc.Status with RetryInfo among its details


def retry_delay(metadata: grpc.aio.Metadata | None) -> float | None:
    """The server's RetryInfo delay in seconds, from either trailer it may travel in."""
    for key, value in metadata or ():
        if key == RETRY_INFO_KEY:
            return _seconds(RetryInfo.FromString(value).retry_delay)
        if key == STATUS_DETAILS_KEY:
            for detail in Status.FromString(value).details:
                info = RetryInfo()
                if detail.Unpack(info):
                    return _seconds(info.retry_delay)
    return None


def _seconds(delay: DurationProto) -> float:
    return delay.seconds + delay.nanos / 1e9


def classify(error: grpc.aio.AioRpcError) -> Exception:
    """The exception the sending queue should see for a failed call."""
    code = error.code()
    message = f"gRPC {code.name}: {error.details() or 'no details'}"
    delay = retry_delay(error.trailing_metadata())
    if code in RETRYABLE_CODES or (code == grpc.StatusCode.RESOURCE_EXHAUSTED and delay is not None):
        return RetryableExportError(message, retry_after=delay)
    return PermanentError(message)


class OTLPGrpcExporter(OTLPExporter):
    config: OTLPGrpcConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._channel: grpc.aio.Channel | None = None
        self._stub: MetricsServiceStub | None = None
        # gRPC metadata keys are lowercase by protocol.
        self._metadata = tuple((name.lower(), value) for name, value in self.config.header_items())

    async def start(self, host: Host) -> None:
        config = self.config
        compression = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}.get(
            config.compression, grpc.Compression.NoCompression
        )
        # gRPC's own reconnect backoff grows to 120s, and calls fail at once while it waits: cap it at the
        # sending queue's max_interval so a backend that is back is reached at the queue's next retry.
        reconnect_ms = max(100, int(config.retry_on_failure.max_interval * 1000))
        options = [
            ("grpc.initial_reconnect_backoff_ms", min(1000, reconnect_ms)),
            ("grpc.max_reconnect_backoff_ms", reconnect_ms),
            *config.channel_options(),
        ]
        if config.uses_tls:
            ca, cert, key = await self._encoder.run(config.tls.read_files)  # our own thread, once at start
            credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
            self._channel = grpc.aio.secure_channel(config.target, credentials, options, compression)
        else:
            self._channel = grpc.aio.insecure_channel(config.target, options, compression)
        self._stub = MetricsServiceStub(self._channel)

    async def _send(self, request: ExportMetricsServiceRequest) -> ExportMetricsServiceResponse:
        assert self._stub is not None, "export before start"
        try:
            return await self._stub.Export(
                request, metadata=self._metadata, timeout=self.config.timeout, wait_for_ready=self.config.wait_for_ready
            )
        except grpc.aio.AioRpcError as error:
            raise classify(error) from error

    async def shutdown(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
        self._encoder.shutdown()
