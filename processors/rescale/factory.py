"""How the registry makes a `rescale` processor (entry point `processors.rescale:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.rescale.config import RescaleConfig
from processors.rescale.processor import RescaleProcessor

factory = ProcessorFactory(
    type="rescale",
    config_model=RescaleConfig,
    create=RescaleProcessor,
    stability=Stability.BETA,
    description="Multiplies metric values by a factor or converts between units (ms -> s, By -> MiBy ...).",
)
