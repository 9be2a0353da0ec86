"""`cumulativetodelta` processor: cumulative monotonic sums and histograms become deltas (see README.md)."""

from common.delta import DeltaTracker
from processors.cumulativetodelta.processor import CumulativeToDeltaConfig, CumulativeToDeltaProcessor, factory

__all__ = ["CumulativeToDeltaConfig", "CumulativeToDeltaProcessor", "DeltaTracker", "factory"]
