"""`filter` processor: include/exclude metrics by name and points by attributes (see README.md)."""

from processors.filter.config import FilterConfig
from processors.filter.factory import factory

__all__ = ["FilterConfig", "factory"]
