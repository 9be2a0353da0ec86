"""`cumulativetodelta` processor: cumulative monotonic sums and histograms become deltas (see README.md)."""
