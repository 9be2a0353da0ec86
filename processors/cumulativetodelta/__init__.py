"""`cumulativetodelta` processor: cumulative monotonic sums and histograms become deltas (see README.md)."""

from processors.cumulativetodelta.config import CumulativeToDeltaConfig
from processors.cumulativetodelta.factory import factory

__all__ = ["CumulativeToDeltaConfig", "factory"]
