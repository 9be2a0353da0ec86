"""`attributes` processor: the Collector's attribute actions on data points (see README.md)."""

from common.actions.attributes import AttributeAction
from processors.attributes.processor import AttributesConfig, AttributesProcessor, factory

__all__ = ["AttributeAction", "AttributesConfig", "AttributesProcessor", "factory"]
