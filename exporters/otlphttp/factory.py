"""The `otlphttp` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ExporterFactory, Stability
from collector.exporterhelper import sending_from_config
from exporters.otlphttp.config import OTLPHTTPConfig
from exporters.otlphttp.exporter import OTLPHTTPExporter

factory = ExporterFactory(
    type="otlphttp",
    config_model=OTLPHTTPConfig,
    create=OTLPHTTPExporter,
    sending=sending_from_config,
    stability=Stability.BETA,
    description="OTLP over HTTP/protobuf to an OpenTelemetry Collector or any OTLP backend.",
)
