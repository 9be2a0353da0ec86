"""`debug` exporter: a human-readable summary of every batch on stderr."""

from exporters.debug.config import DebugConfig
from exporters.debug.factory import factory

__all__ = ["DebugConfig", "factory"]
