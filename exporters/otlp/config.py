"""`otlp` config: the Collector's otlpexporter keys (gRPC client, TLS, keepalive, balancing)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel
from collector.configtypes import PositiveDuration
from common.otlp import OTLPClientConfig, without_userinfo


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
