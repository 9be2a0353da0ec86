"""How the registry makes a `memory_limiter` processor (entry point `processors.memory_limiter:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.memory_limiter.config import MemoryLimiterConfig
from processors.memory_limiter.processor import MemoryLimiterProcessor

factory = ProcessorFactory(
    type="memory_limiter",
    config_model=MemoryLimiterConfig,
    create=MemoryLimiterProcessor,
    stability=Stability.BETA,
    description="Refuses data while the collector's memory is above a soft limit, as the Collector's memory_limiter.",
)
