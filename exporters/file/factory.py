"""The `file` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from exporters.file.config import FileConfig
from exporters.file.exporter import FileExporter

factory = Factory(
    type="file",
    kind=Kind.EXPORTER,
    config_model=FileConfig,
    create=FileExporter,
    stability=Stability.BETA,
    description="OTLP/JSON lines to a file, with optional size-based rotation.",
)
