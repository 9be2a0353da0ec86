"""The `debug` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from exporters.debug.config import DebugConfig
from exporters.debug.exporter import DebugExporter

factory = Factory(
    type="debug",
    kind=Kind.EXPORTER,
    config_model=DebugConfig,
    create=DebugExporter,
    stability=Stability.BETA,
    description="Human-readable summary of each batch on stderr.",
)
