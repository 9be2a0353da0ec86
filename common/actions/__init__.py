"""Metric and attribute edits that more than one processor runs (attributes, rename, rescale and metricstransform)."""
