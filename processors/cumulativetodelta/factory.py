"""How the registry makes a `cumulativetodelta` processor (entry point `processors.cumulativetodelta:factory`)."""

from collector.component import ProcessorFactory, Stability
from processors.cumulativetodelta.config import CumulativeToDeltaConfig
from processors.cumulativetodelta.processor import CumulativeToDeltaProcessor

factory = ProcessorFactory(
    type="cumulativetodelta",
    config_model=CumulativeToDeltaConfig,
    create=CumulativeToDeltaProcessor,
    stability=Stability.BETA,
    description="Converts cumulative monotonic sums and histograms to deltas (per-series state).",
)
