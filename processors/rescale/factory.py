"""How the registry makes a `rescale` processor (entry point `processors.rescale:factory`)."""

from collector.component import Factory, Kind, Stability
from processors.rescale.config import RescaleConfig
from processors.rescale.processor import RescaleProcessor

factory = Factory(
    type="rescale",
    kind=Kind.PROCESSOR,
    config_model=RescaleConfig,
    create=RescaleProcessor,
    stability=Stability.BETA,
    description="Multiplies metric values by a factor or converts between units (ms -> s, By -> MiBy ...).",
)
