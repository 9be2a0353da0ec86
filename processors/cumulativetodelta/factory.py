"""How the registry makes a `cumulativetodelta` processor (entry point `processors.cumulativetodelta:factory`)."""

from collector.component import Factory, Kind, Stability
from processors.cumulativetodelta.config import CumulativeToDeltaConfig
from processors.cumulativetodelta.processor import CumulativeToDeltaProcessor

factory = Factory(
    type="cumulativetodelta",
    kind=Kind.PROCESSOR,
    config_model=CumulativeToDeltaConfig,
    create=CumulativeToDeltaProcessor,
    stability=Stability.BETA,
    description="Converts cumulative monotonic sums and histograms to deltas (per-series state).",
)
