from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

import grpc
from google.protobuf.duration_pb2 import Duration as DurationProto
from google.rpc.error_details_pb2 import RetryInfo
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2_grpc import MetricsServiceStub
from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel, Factory, Host, Kind, PermanentError, Stability
from collector.configtypes import PositiveDuration
from common.otlp import OTLPClientConfig, OTLPExporter, RetryableExportError, without_userinfo

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


class ClientKeepalive(ConfigModel):
    """gRPC keepalive.ClientParameters."""

    time: PositiveDuration | None = Field(None, description="Ping the server after this long without activity.")
    timeout: PositiveDuration | None = Field(None, description="Close the connection if a ping is not answered.")
    permit_without_stream: bool = False


class OTLPGrpcConfig(OTLPClientConfig):
    endpoint: str = Field(
        min_length=1,
        description="host:port of the OTLP/gRPC receiver; an https:// prefix forces TLS, http:// is stripped.",
    )
    keepalive: ClientKeepalive | None = None
    authority: str | None = Field(None, description="The :authority header, when it is not the endpoint.")
    balancer_name: Literal["pick_first", "round_robin"] = Field(
        "pick_first", description="How calls spread over the addresses the endpoint's name resolves to."
    )
    wait_for_ready: bool = Field(False, description="Calls wait (up to timeout) for a connection instead of failing.")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, endpoint: str) -> str:
        endpoint = endpoint.strip()
        if "://" in endpoint:
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                shown = without_userinfo(endpoint)  # a password in the URL stays out of the message
                raise ValueError(f"expected host:port, http://host:port or https://host:port, got {shown!r}")
        return endpoint

    @model_validator(mode="after")
    def _no_unverified_tls(self) -> OTLPGrpcConfig:
        if self.tls.insecure_skip_verify:
            raise ValueError(
                "tls.insecure_skip_verify is not supported by the gRPC client: give the server's CA as tls.ca_file"
            )
        if "compression_params" in self.model_fields_set:
            raise ValueError("compression_params is not supported by the gRPC client: it compresses at its own level")
        return self

    def channel_options(self) -> list[tuple[str, int | str]]:
        """keepalive, authority, balancer_name and server_name_override as grpc core channel arguments."""
        options: list[tuple[str, int | str]] = [("grpc.lb_policy_name", self.balancer_name)]
        if self.keepalive is not None:
            if self.keepalive.time is not None:
                options.append(("grpc.keepalive_time_ms", int(self.keepalive.time * 1000)))
            if self.keepalive.timeout is not None:
                options.append(("grpc.keepalive_timeout_ms", int(self.keepalive.timeout * 1000)))
            options.append(("grpc.keepalive_permit_without_calls", int(self.keepalive.permit_without_stream)))
        if self.authority:
            options.append(("grpc.default_authority", self.authority))
        if self.tls.server_name_override:
            options.append(("grpc.ssl_target_name_override", self.tls.server_name_override))
        return options

    @property
    def target(self) -> str:
        """What grpc dials: the endpoint without an http(s):// scheme."""
        return urlsplit(self.endpoint).netloc if "://" in self.endpoint else self.endpoint

    @property
    def uses_tls(self) -> bool:
        """As the Collector: TLS unless `tls.insecure`; an https:// endpoint always uses TLS."""
        return self.endpoint.startswith("https://") or not self.tls.insecure


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


factory = Factory(
    type="otlp",
    kind=Kind.EXPORTER,
    config_model=OTLPGrpcConfig,
    create=OTLPGrpcExporter,
    stability=Stability.BETA,
    description="OTLP/gRPC to an OpenTelemetry Collector or any OTLP backend.",
)
