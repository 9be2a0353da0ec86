"""`memory_limiter` processor: refuse data above a soft memory limit, as in the Collector (see README.md)."""

from processors.memory_limiter.config import MemoryLimiterConfig
from processors.memory_limiter.factory import factory

__all__ = ["MemoryLimiterConfig", "factory"]
