"""How the registry makes an `attributes` processor (entry point `processors.attributes:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.attributes.config import AttributesConfig
from processors.attributes.processor import AttributesProcessor

factory = ProcessorFactory(
    type="attributes",
    config_model=AttributesConfig,
    create=AttributesProcessor,
    stability=Stability.BETA,
    description="The Collector attributesprocessor's actions on data point attributes, plus rename.",
)
