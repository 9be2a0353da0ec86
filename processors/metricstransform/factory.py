"""How the registry makes a `metricstransform` processor (entry point `processors.metricstransform:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.metricstransform.config import MetricsTransformConfig
from processors.metricstransform.processor import MetricsTransformProcessor

factory = ProcessorFactory(
    type="metricstransform",
    config_model=MetricsTransformConfig,
    create=MetricsTransformProcessor,
    stability=Stability.ALPHA,
    description="The Collector's metricstransform (update/insert, label and scale operations).",
)
