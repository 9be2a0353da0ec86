"""`cumulativetodelta` processor: cumulative monotonic sums and histograms become deltas (see README.md)."""

from processors.cumulativetodelta.processor import CumulativeToDeltaConfig, CumulativeToDeltaProcessor, factory
from processors.cumulativetodelta.tracker import DeltaTracker

__all__ = ["CumulativeToDeltaConfig", "CumulativeToDeltaProcessor", "DeltaTracker", "factory"]
