"""How the registry makes an `attributes` processor (entry point `processors.attributes:factory`)."""

from collector.component import Factory, Kind, Stability
from processors.attributes.config import AttributesConfig
from processors.attributes.processor import AttributesProcessor

factory = Factory(
    type="attributes",
    kind=Kind.PROCESSOR,
    config_model=AttributesConfig,
    create=AttributesProcessor,
    stability=Stability.BETA,
    description="The Collector attributesprocessor's actions on data point attributes, plus rename.",
)
