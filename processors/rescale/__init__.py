"""`rescale` processor: multiply values by a factor or convert between units (see README.md)."""

from processors.rescale.processor import RescaleConfig, RescaleProcessor, RescaleRule, factory

__all__ = ["RescaleConfig", "RescaleProcessor", "RescaleRule", "factory"]
