"""`file` exporter: one OTLP/JSON ExportMetricsServiceRequest per line, as the Collector writes it."""

from exporters.file.config import FileConfig
from exporters.file.factory import factory

__all__ = ["FileConfig", "factory"]
