"""The models of a validated config: the `service` section (pipelines, extensions, the collector's own
telemetry) and `CollectorConfig`, each component's validated config beside the factory that makes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from collector.component import ComponentID, ConfigModel, Factory, Kind
from collector.configtypes import Duration

SUPPORTED_SIGNALS = ("metrics",)


class PipelineConfig(ConfigModel):
    receivers: list[str] = Field(default_factory=list)
    processors: list[str] = Field(default_factory=list)
    exporters: list[str] = Field(default_factory=list)


class LogsTelemetryConfig(ConfigModel):
    level: Literal["debug", "info", "warn", "warning", "error"] = "info"
    encoding: Literal["console", "json"] = "console"


class MetricsTelemetryConfig(ConfigModel):
    level: Literal["none", "basic", "normal", "detailed"] = "normal"
    address: str = "localhost:8888"


class TelemetryConfig(ConfigModel):
    logs: LogsTelemetryConfig = LogsTelemetryConfig()
    metrics: MetricsTelemetryConfig = MetricsTelemetryConfig()


class ServiceConfig(ConfigModel):
    extensions: list[str] = Field(default_factory=list)
    pipelines: dict[str, PipelineConfig] = Field(default_factory=dict)
    telemetry: TelemetryConfig = TelemetryConfig()
    shutdown_grace_period: Duration = Field(
        default=30.0, description="How long shutdown may take to drain queues and flush exporters."
    )

    @field_validator("pipelines")
    @classmethod
    def _known_signals(cls, pipelines: dict[str, PipelineConfig]) -> dict[str, PipelineConfig]:
        for pipeline_id in pipelines:
            signal = pipeline_id.partition("/")[0]
            if signal not in SUPPORTED_SIGNALS:
                raise ValueError(
                    f"pipeline {pipeline_id!r}: only metrics pipelines are supported (metrics or metrics/<name>)"
                )
        return pipelines


@dataclass(frozen=True)
class ComponentSpec:
    id: ComponentID
    kind: Kind
    factory: Factory[Any]
    config: BaseModel


@dataclass
class CollectorConfig:
    """A config that passed every check: what the pipeline builder needs and nothing else."""

    components: dict[tuple[Kind, str], ComponentSpec]
    service: ServiceConfig
    warnings: list[str] = field(default_factory=list)

    def component(self, kind: Kind, component_id: str) -> ComponentSpec:
        return self.components[(kind, component_id)]
