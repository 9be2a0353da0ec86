"""The `otlp` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from exporters.otlp.config import OTLPGrpcConfig
from exporters.otlp.exporter import OTLPGrpcExporter

factory = Factory(
    type="otlp",
    kind=Kind.EXPORTER,
    config_model=OTLPGrpcConfig,
    create=OTLPGrpcExporter,
    stability=Stability.BETA,
    description="OTLP/gRPC to an OpenTelemetry Collector or any OTLP backend.",
)
