"""Reproducible measurements, reported as ratios against a named peer or a limit (see docs/performance.md)."""
