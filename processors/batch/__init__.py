"""`batch` processor: send_batch_size / send_batch_max_size / timeout, as in the Collector (see README.md)."""

from processors.batch.processor import BatchConfig, BatchProcessor, factory

__all__ = ["BatchConfig", "BatchProcessor", "factory"]
