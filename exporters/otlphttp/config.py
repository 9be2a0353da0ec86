"""`otlphttp` config: the Collector's otlphttpexporter keys; the HTTP/2 and connection-pool keys it
cannot honour are refused with the reason."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from collector.configtypes import Duration, Refused
from common.otlp import OTLPClientConfig

METRICS_PATH = "/v1/metrics"
_METRICS_ONLY = "this collector sends metrics only: use endpoint or metrics_endpoint"
_POOL = "the connection pool is sized by sending_queue.num_consumers (one connection per consumer, kept alive)"


class OTLPHTTPConfig(OTLPClientConfig):
    endpoint: str | None = Field(None, description="Base URL; /v1/metrics is appended.")
    metrics_endpoint: str | None = Field(None, description="Full URL for metrics, used as is (wins over endpoint).")
    timeout: Duration = Field(30.0, gt=0, description="Per request, as the Collector's otlphttp default.")
    encoding: Literal["proto", "json"] = Field("proto", description="Request body: OTLP protobuf or OTLP/JSON.")
    proxy_url: str | None = Field(None, description="HTTP proxy for every request; HTTP(S)_PROXY when unset.")
    traces_endpoint: Annotated[Any, Refused(_METRICS_ONLY)] = None
    logs_endpoint: Annotated[Any, Refused(_METRICS_ONLY)] = None
    profiles_endpoint: Annotated[Any, Refused(_METRICS_ONLY)] = None
    max_idle_conns: Annotated[Any, Refused(_POOL)] = None
    max_idle_conns_per_host: Annotated[Any, Refused(_POOL)] = None
    max_conns_per_host: Annotated[Any, Refused(_POOL)] = None
    idle_conn_timeout: Annotated[Any, Refused(_POOL)] = None
    disable_keep_alives: Annotated[Any, Refused(_POOL)] = None
    keepalive: Annotated[Any, Refused(_POOL)] = None
    http2_read_idle_timeout: Annotated[Any, Refused("requests are sent over HTTP/1.1")] = None
    http2_ping_timeout: Annotated[Any, Refused("requests are sent over HTTP/1.1")] = None
    force_attempt_http2: Annotated[Any, Refused("requests are sent over HTTP/1.1")] = None
    cookies: Annotated[Any, Refused("OTLP backends need no cookies; send credentials as headers")] = None

    @field_validator("endpoint", "metrics_endpoint", "proxy_url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "expected an http:// or https:// URL with a host"
            )  # value not echoed: it may hold credentials
        return url.strip()

    @model_validator(mode="after")
    def _one_endpoint(self) -> OTLPHTTPConfig:
        if not self.endpoint and not self.metrics_endpoint:
            raise ValueError("set endpoint (base URL, /v1/metrics is appended) or metrics_endpoint (full URL)")
        if self.tls.server_name_override:
            raise ValueError("tls.server_name_override is not supported over HTTP: use the name in the URL")
        return self

    @property
    def metrics_url(self) -> str:
        """The Collector's rule: metrics_endpoint as is, else endpoint + /v1/metrics."""
        return self.metrics_endpoint or f"{self.endpoint.rstrip('/')}{METRICS_PATH}"  # type: ignore[union-attr]
