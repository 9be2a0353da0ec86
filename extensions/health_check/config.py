"""The `health_check` extension's settings, with the Collector's keys."""

from __future__ import annotations

from pydantic import Field

from collector.component import ConfigModel
from collector.confighttp import GetEndpointServerKeys
from collector.confignet import Endpoint
from collector.configtls import TLSServerConfig
from collector.configtypes import PositiveDuration


class ResponseBodyConfig(ConfigModel):
    healthy: str = Field("", description="Body of a 200 answer instead of the JSON report.")
    unhealthy: str = Field("", description="Body of a 503 answer instead of the JSON report.")


class PipelineCheckConfig(ConfigModel):
    """The Collector's `check_collector_pipeline`: unhealthy while exporters keep failing."""

    enabled: bool = False
    interval: PositiveDuration = Field(300.0, description="The window failures are counted in.")
    exporter_failure_threshold: int = Field(
        5, gt=0, description="Unhealthy when more than this many points failed to export within interval."
    )


class HealthCheckConfig(GetEndpointServerKeys):
    endpoint: Endpoint = "localhost:13133"
    path: str = Field("/", pattern=r"^/", description="Must start with /.")
    tls: TLSServerConfig | None = None
    response_body: ResponseBodyConfig | None = None
    check_collector_pipeline: PipelineCheckConfig = PipelineCheckConfig()
