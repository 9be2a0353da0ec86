"""How the registry makes a `filter` processor (entry point `processors.filter:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.filter.config import FilterConfig
from processors.filter.processor import FilterProcessor

factory = ProcessorFactory(
    type="filter",
    config_model=FilterConfig,
    create=FilterProcessor,
    stability=Stability.BETA,
    description="Keeps or drops metrics by name (strict|regexp), resource and point attributes.",
)
