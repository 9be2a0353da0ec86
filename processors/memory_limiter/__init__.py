"""`memory_limiter` processor: refuse data above a soft memory limit, as in the Collector (see README.md)."""

from processors.memory_limiter.processor import (
    MemoryLimiterConfig,
    MemoryLimiterProcessor,
    MemoryLimitExceeded,
    factory,
)

__all__ = ["MemoryLimitExceeded", "MemoryLimiterConfig", "MemoryLimiterProcessor", "factory"]
