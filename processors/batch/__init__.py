"""`batch` processor: send_batch_size / send_batch_max_size / timeout, as in the Collector (see README.md)."""

from processors.batch.config import BatchConfig
from processors.batch.factory import factory

__all__ = ["BatchConfig", "factory"]
