"""The `prometheus` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ExporterFactory, Stability
from collector.exporterhelper import QueueConfig, SendingConfig, fixed_sending
from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.exporter import PrometheusExporter

SENDING = SendingConfig(sending_queue=QueueConfig(enabled=False))
"""No queue and no retry: `export` only updates memory."""

factory = ExporterFactory(
    type="prometheus",
    config_model=PrometheusConfig,
    create=PrometheusExporter,
    sending=fixed_sending(SENDING),
    stability=Stability.BETA,
    description="Serves the latest value of every series for Prometheus to scrape (text or OpenMetrics).",
)
