"""The `otlp` receiver's config: the Collector's `protocols: {grpc, http}` keys and defaults."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel
from collector.confignet import Endpoint
from collector.configtls import TLSServerConfig
from collector.configtypes import PositiveDuration

MAX_BODY_BYTES = 64 * 1024 * 1024
"""Upper bound of a request body (HTTP, before and after gzip) and of a gRPC message: one request decodes
to about 20 times its size in memory, so a larger one could not be held under any sane memory limit."""


class GRPCConfig(ConfigModel):
    endpoint: Endpoint = "localhost:4317"
    transport: Literal["tcp"] = Field("tcp", description="Only tcp; the Collector's unix sockets are not supported.")
    max_recv_msg_size_mib: int = Field(
        4, gt=0, le=MAX_BODY_BYTES // (1024 * 1024), description="Larger messages get RESOURCE_EXHAUSTED."
    )
    max_concurrent_streams: int | None = Field(None, gt=0)
    max_connections: int = Field(
        0, ge=0, description="Concurrent connections; 0 = from the nofile limit (see docs/operations.md)."
    )
    tls: TLSServerConfig | None = None


class CORSConfig(ConfigModel):
    allowed_origins: list[str] = Field(default_factory=list, description="`*` wildcards allowed.")
    allowed_headers: list[str] = Field(default_factory=list)
    max_age: int | None = Field(None, ge=0, description="Seconds a browser may cache a preflight answer.")


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

    @field_validator("metrics_url_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
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
