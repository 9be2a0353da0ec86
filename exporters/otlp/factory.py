"""The `otlp` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ExporterFactory, Stability
from collector.exporterhelper import sending_from_config
from exporters.otlp.config import OTLPGrpcConfig
from exporters.otlp.exporter import OTLPGrpcExporter

factory = ExporterFactory(
    type="otlp",
    config_model=OTLPGrpcConfig,
    create=OTLPGrpcExporter,
    sending=sending_from_config,
    stability=Stability.BETA,
    description="OTLP/gRPC to an OpenTelemetry Collector or any OTLP backend.",
)
