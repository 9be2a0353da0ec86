"""The `otlp` receiver's config: the Collector's `protocols: {grpc, http}` keys and defaults."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from collector.component import ConfigModel
from collector.confignet import Endpoint
from collector.configtls import TLSServerConfig
from collector.configtypes import PositiveDuration, Refused

MAX_BODY_BYTES = 64 * 1024 * 1024
"""Upper bound of a request body (HTTP, before and after gzip) and of a gRPC message: one request decodes
to about 20 times its size in memory, so a larger one could not be held under any sane memory limit."""

_AUTH = "authenticator extensions are not available; require client certificates with tls.client_ca_file"
_METADATA = "no component here reads client metadata (the batch processor's metadata_keys see none)"
_METRICS_ONLY = "this collector receives metrics only"


class ServerParameters(ConfigModel):
    """gRPC keepalive.ServerParameters; unset = gRPC's default."""

    max_connection_idle: PositiveDuration | None = None
    max_connection_age: PositiveDuration | None = None
    max_connection_age_grace: PositiveDuration | None = None
    time: PositiveDuration | None = Field(None, description="Ping a client after this long without activity.")
    timeout: PositiveDuration | None = Field(None, description="Close the connection if a ping is not answered.")


class EnforcementPolicy(ConfigModel):
    """gRPC keepalive.EnforcementPolicy: how often clients may ping."""

    min_time: PositiveDuration | None = None
    permit_without_stream: bool = False


class KeepaliveConfig(ConfigModel):
    server_parameters: ServerParameters | None = None
    enforcement_policy: EnforcementPolicy | None = None

    def grpc_options(self) -> list[tuple[str, int]]:
        """The grpc core channel arguments with the same meaning as grpc-go's keepalive settings."""
        options: list[tuple[str, int]] = []
        server = self.server_parameters or ServerParameters()
        for value, arg in (
            (server.max_connection_idle, "grpc.max_connection_idle_ms"),
            (server.max_connection_age, "grpc.max_connection_age_ms"),
            (server.max_connection_age_grace, "grpc.max_connection_age_grace_ms"),
            (server.time, "grpc.keepalive_time_ms"),
            (server.timeout, "grpc.keepalive_timeout_ms"),
        ):
            if value is not None:
                options.append((arg, int(value * 1000)))
        policy = self.enforcement_policy
        if policy is not None:
            if policy.min_time is not None:
                options.append(("grpc.http2.min_ping_interval_without_data_ms", int(policy.min_time * 1000)))
            options.append(("grpc.keepalive_permit_without_calls", int(policy.permit_without_stream)))
        return options


def _tcp_only(transport: str) -> str:
    if transport != "tcp":
        raise ValueError(f"transport {transport!r} is not supported: only tcp; listen on a loopback endpoint instead")
    return transport


class GRPCConfig(ConfigModel):
    endpoint: Endpoint = "localhost:4317"
    transport: Annotated[str, AfterValidator(_tcp_only)] = Field(
        "tcp", description="Only tcp; the Collector's unix sockets are not supported."
    )
    max_recv_msg_size_mib: int = Field(
        4, gt=0, le=MAX_BODY_BYTES // (1024 * 1024), description="Larger messages get RESOURCE_EXHAUSTED."
    )
    max_concurrent_streams: int | None = Field(None, gt=0)
    max_connections: int = Field(
        0, ge=0, description="Concurrent connections; 0 = from the nofile limit (see docs/operations.md)."
    )
    tls: TLSServerConfig | None = None
    keepalive: KeepaliveConfig | None = None
    read_buffer_size: Annotated[Any, Refused("gRPC's C core sizes its own buffers")] = None
    write_buffer_size: Annotated[Any, Refused("gRPC's C core sizes its own buffers")] = None
    auth: Annotated[Any, Refused(_AUTH)] = None
    include_metadata: Annotated[Any, Refused(_METADATA)] = None
    middlewares: Annotated[Any, Refused("middleware extensions are not available")] = None
    tls_settings: Annotated[Any, Refused("renamed in the Collector: use tls")] = None

    def keepalive_options(self) -> list[tuple[str, int]]:
        return self.keepalive.grpc_options() if self.keepalive else []


class CORSConfig(ConfigModel):
    allowed_origins: list[str] = Field(default_factory=list, description="`*` wildcards allowed.")
    allowed_headers: list[str] = Field(default_factory=list)
    max_age: int | None = Field(None, ge=0, description="Seconds a browser may cache a preflight answer.")
    exposed_headers: Annotated[Any, Refused("the answers carry no header a browser script needs")] = None


class HTTPConfig(ConfigModel):
    endpoint: Endpoint = "localhost:4318"
    max_request_body_size: int = Field(
        20 * 1024 * 1024, gt=0, le=MAX_BODY_BYTES, description="Bytes, before and after gzip."
    )
    read_header_timeout: PositiveDuration = Field(
        10.0, description="Close a connection whose request headers are not complete after this long."
    )
    read_timeout: PositiveDuration = Field(30.0, description="Answer 408 and close when a body takes longer.")
    max_connections: int = Field(
        0, ge=0, description="Concurrent connections; 0 = from the nofile limit (see docs/operations.md)."
    )
    metrics_url_path: str = "/v1/metrics"
    tls: TLSServerConfig | None = None
    cors: CORSConfig | None = None
    traces_url_path: Annotated[Any, Refused(_METRICS_ONLY)] = None
    logs_url_path: Annotated[Any, Refused(_METRICS_ONLY)] = None
    profiles_url_path: Annotated[Any, Refused(_METRICS_ONLY)] = None
    auth: Annotated[Any, Refused(_AUTH)] = None
    include_metadata: Annotated[Any, Refused(_METADATA)] = None
    compression_algorithms: Annotated[
        Any, Refused("gzip, deflate and uncompressed bodies are always accepted; zstd and snappy never")
    ] = None
    response_headers: Annotated[Any, Refused("answers carry only the OTLP headers")] = None
    keepalive: Annotated[Any, Refused("the HTTP listener's keep-alive is the collector's own (docs/operations.md)")] = (
        None
    )
    write_timeout: Annotated[
        Any, Refused("the HTTP listener's limits are the collector's own (docs/operations.md)")
    ] = None
    middlewares: Annotated[Any, Refused("middleware extensions are not available")] = None
    cors_allowed_origins: Annotated[Any, Refused("renamed in the Collector: use cors.allowed_origins")] = None
    cors_allowed_headers: Annotated[Any, Refused("renamed in the Collector: use cors.allowed_headers")] = None
    tls_settings: Annotated[Any, Refused("renamed in the Collector: use tls")] = None

    @field_validator("metrics_url_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        """As the Collector (which parses it as a URL): a relative path gets its `/`, and what is not a
        URL path (`:invalid`, a query, a fragment, spaces) is refused."""
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        first_segment = value.lstrip("/").split("/", 1)[0]
        if ":" in first_segment and not value.startswith("/"):
            raise ValueError(f"{value!r} is not a URL path: the first segment of a relative path cannot hold ':'")
        if any(c in value for c in "?# ") or not value.isprintable():
            raise ValueError(f"{value!r} is not a URL path: no query, fragment, spaces or control characters")
        return value if value.startswith("/") else "/" + value


class ProtocolsConfig(ConfigModel):
    """A protocol listed with no settings (`grpc:`) is enabled with its defaults."""

    grpc: GRPCConfig | None = None
    http: HTTPConfig | None = None


class OTLPReceiverConfig(ConfigModel):
    protocols: ProtocolsConfig

    @model_validator(mode="before")
    @classmethod
    def _empty_protocols_enable_defaults(cls, data: object) -> object:
        # YAML `grpc:` with nothing under it parses as None: the Collector reads that as "on, defaults".
        if isinstance(data, dict) and isinstance(data.get("protocols"), dict):
            protocols = dict(data["protocols"])
            for name in ("grpc", "http"):
                if name in protocols and protocols[name] is None:
                    protocols[name] = {}
            data = {**data, "protocols": protocols}
        return data

    @model_validator(mode="after")
    def _at_least_one(self) -> OTLPReceiverConfig:
        if self.protocols.grpc is None and self.protocols.http is None:
            raise ValueError("protocols: enable grpc, http or both (e.g. `protocols: {grpc: {}}`)")
        return self
