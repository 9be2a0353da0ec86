"""How the registry makes a `batch` processor (entry point `processors.batch:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.batch.config import BatchConfig
from processors.batch.processor import BatchProcessor

factory = ProcessorFactory(
    type="batch",
    config_model=BatchConfig,
    create=BatchProcessor,
    stability=Stability.BETA,
    description="Groups points into batches by size and time, as the Collector's batch processor.",
)
