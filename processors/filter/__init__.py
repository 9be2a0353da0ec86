"""`filter` processor: include/exclude metrics by name and points by attributes (see README.md)."""

from processors.filter.processor import FilterConfig, FilterProcessor, MetricsFilter, factory

__all__ = ["FilterConfig", "FilterProcessor", "MetricsFilter", "factory"]
