"""`metricstransform` processor: the Collector's config, run by the rename/rescale/attributes code
(see README.md)."""

from processors.metricstransform.processor import MetricsTransformConfig, MetricsTransformProcessor, factory

__all__ = ["MetricsTransformConfig", "MetricsTransformProcessor", "factory"]
