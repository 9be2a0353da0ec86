"""The `prometheus` exporter's config: the Collector's prometheusexporter keys and defaults."""

from __future__ import annotations

from pydantic import Field

from collector.component import ConfigModel
from collector.confignet import Endpoint
from collector.configtls import TLSServerConfig
from collector.configtypes import PositiveDuration


class ResourceToTelemetryConfig(ConfigModel):
    enabled: bool = False


class PrometheusConfig(ConfigModel):
    endpoint: Endpoint = "localhost:8889"
    tls: TLSServerConfig | None = None
    namespace: str = ""
    const_labels: dict[str, str] = Field(default_factory=dict)
    send_timestamps: bool = False
    metric_expiration: PositiveDuration = 300.0
    resource_to_telemetry_conversion: ResourceToTelemetryConfig = ResourceToTelemetryConfig()
    enable_open_metrics: bool = Field(
        False, description="Serve OpenMetrics (with exemplars and _created) to scrapers that ask for it."
    )
    add_metric_suffixes: bool = Field(True, description="Unit and `_total`/`_ratio` suffixes on metric names.")
