"""`rescale` processor: multiply values by a factor or convert between units (see README.md)."""

from processors.rescale.config import RescaleConfig
from processors.rescale.factory import factory

__all__ = ["RescaleConfig", "factory"]
