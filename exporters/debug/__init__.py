"""`debug` exporter: a human-readable summary of every batch on stderr."""

from exporters.debug.exporter import DebugConfig, DebugExporter, factory

__all__ = ["DebugConfig", "DebugExporter", "factory"]
