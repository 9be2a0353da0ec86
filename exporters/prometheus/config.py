"""The `prometheus` exporter's config: the Collector's prometheusexporter keys and defaults.

Keys of the Collector's HTTP server settings (confighttp) that have no meaning for a scrape endpoint
here are refused with the reason (`GetEndpointServerKeys`), rather than accepted and ignored.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator

from collector.component import ConfigModel
from collector.confighttp import GetEndpointServerKeys
from collector.confignet import Endpoint
from collector.configtls import TLSServerConfig
from collector.configtypes import PositiveDuration, Refused
from exporters.prometheus.naming import LABEL_NAME, label_name

_UTF8 = (
    "UTF-8 metric names need the content negotiation of Prometheus 3 that this exporter does not do; use "
    "UnderscoreEscapingWithSuffixes or UnderscoreEscapingWithoutSuffixes"
)

TranslationStrategy = Literal["UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes"]


class ResourceToTelemetryConfig(ConfigModel):
    enabled: bool = False
    exclude_service_attributes: bool = Field(
        False, description="Leave out service.name, service.namespace and service.instance.id (already job/instance)."
    )


class ResourceConstantLabelsConfig(ConfigModel):
    """Which resource attributes become labels on every series; wins over resource_to_telemetry_conversion."""

    included: list[str] = Field(default_factory=list, description="Wildcard patterns (`service*`, `k8s.pod.*`).")
    excluded: list[str] = Field(default_factory=list, description="Wildcard patterns; win over included.")

    def selects(self, key: str) -> bool:
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in self.excluded):
            return False
        if not self.included:
            return bool(self.excluded)  # only excluded given: every other attribute
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in self.included)


class PrometheusConfig(GetEndpointServerKeys):
    endpoint: Endpoint = "localhost:8889"
    tls: TLSServerConfig | None = None
    namespace: str = ""
    const_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Keys are normalised as attribute keys are (`another label` -> `another_label`).",
    )
    send_timestamps: bool = False
    metric_expiration: PositiveDuration = 300.0
    resource_to_telemetry_conversion: ResourceToTelemetryConfig = ResourceToTelemetryConfig()
    resource_constant_labels: ResourceConstantLabelsConfig | None = None
    enable_open_metrics: bool = Field(
        False, description="Serve OpenMetrics (with exemplars and _created) to scrapers that ask for it."
    )
    add_metric_suffixes: bool = Field(
        True,
        description="Unit and `_total`/`_ratio` suffixes on metric names; ignored when translation_strategy is set.",
    )
    translation_strategy: Literal[TranslationStrategy, "NoUTF8EscapingWithSuffixes", "NoTranslation"] | None = None
    without_scope_info: bool = Field(False, description="No otel_scope_name / otel_scope_version labels.")
    response_headers: dict[str, SecretStr] = Field(default_factory=dict, description="Added to every scrape response.")
    sending_queue: Annotated[Any, Refused("exports only update memory, so there is nothing to queue")] = None

    @field_validator("translation_strategy")
    @classmethod
    def _escaping_only(cls, strategy: str | None) -> str | None:
        if strategy in ("NoUTF8EscapingWithSuffixes", "NoTranslation"):
            raise ValueError(f"{strategy} is not supported: {_UTF8}")
        return strategy

    @field_validator("const_labels")
    @classmethod
    def _label_names(cls, const_labels: dict[str, str]) -> dict[str, str]:
        result = {}
        for key, value in const_labels.items():
            name = label_name(key)
            if not LABEL_NAME.fullmatch(name) or name == "__name__":
                raise ValueError(f"{key!r} cannot be a Prometheus label name")
            result[name] = value
        return result

    @property
    def suffixes(self) -> bool:
        """translation_strategy when set, else add_metric_suffixes (the Collector's precedence)."""
        if self.translation_strategy is not None:
            return self.translation_strategy == "UnderscoreEscapingWithSuffixes"
        return self.add_metric_suffixes
