"""`attributes` processor: the Collector's attribute actions on data points (see README.md)."""

from processors.attributes.config import AttributesConfig
from processors.attributes.factory import factory

__all__ = ["AttributesConfig", "factory"]
