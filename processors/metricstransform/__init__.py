"""`metricstransform` processor: the Collector's config, run by the rename/rescale/attributes code
(see README.md)."""

from processors.metricstransform.config import MetricsTransformConfig
from processors.metricstransform.factory import factory

__all__ = ["MetricsTransformConfig", "factory"]
