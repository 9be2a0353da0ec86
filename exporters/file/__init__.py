"""`file` exporter: one OTLP/JSON ExportMetricsServiceRequest per line, as the Collector writes it."""

from exporters.file.exporter import FileConfig, FileExporter, RotationConfig, factory

__all__ = ["FileConfig", "FileExporter", "RotationConfig", "factory"]
