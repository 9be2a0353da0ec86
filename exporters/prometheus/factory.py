"""The `prometheus` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.exporter import PrometheusExporter

factory = Factory(
    type="prometheus",
    kind=Kind.EXPORTER,
    config_model=PrometheusConfig,
    create=PrometheusExporter,
    stability=Stability.BETA,
    description="Serves the latest value of every series for Prometheus to scrape (text or OpenMetrics).",
)
