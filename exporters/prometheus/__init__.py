"""`prometheus` exporter: a pull endpoint (`/metrics`) for Prometheus, like the Collector's."""

from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.factory import factory

__all__ = ["PrometheusConfig", "factory"]
