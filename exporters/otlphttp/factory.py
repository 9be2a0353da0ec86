"""The `otlphttp` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from exporters.otlphttp.config import OTLPHTTPConfig
from exporters.otlphttp.exporter import OTLPHTTPExporter

factory = Factory(
    type="otlphttp",
    kind=Kind.EXPORTER,
    config_model=OTLPHTTPConfig,
    create=OTLPHTTPExporter,
    stability=Stability.BETA,
    description="OTLP over HTTP/protobuf to an OpenTelemetry Collector or any OTLP backend.",
)
