"""Multiplying a metric's values by a constant: shared by `rescale` and metricstransform's
`experimental_scale_value`."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from opentelemetry.sdk.metrics.export import Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, Sum


class Scaler:
    """Scales gauge and sum values, and histogram sums, bounds, min and max; sets the unit if given.

    The factor is kept as a fraction so `ms -> s` divides by 1000 exactly as a user would. Integer
    points stay integers when the factor is a whole number; otherwise they become doubles (every point
    of the metric, so its type does not flip between scrapes). Other kinds (exponential histograms,
    summaries) are returned unchanged: their buckets cannot be rescaled exactly.
    """

    def __init__(self, factor: Fraction | float, unit: str | None = None) -> None:
        # a float from YAML is read as the decimal the user wrote: 0.001 is exactly 1/1000
        ratio = Fraction(repr(factor)) if isinstance(factor, float) else Fraction(factor)
        self.numerator, self.denominator = ratio.numerator, ratio.denominator
        self.whole = ratio.denominator == 1
        self.unit = unit

    def scale(self, value: int | float) -> int | float:
        if isinstance(value, int) and self.whole:
            return value * self.numerator
        return value * self.numerator / self.denominator

    def apply(self, metric: Metric) -> Metric:
        body = metric.data
        if isinstance(body, Gauge | Sum):
            scale = self.scale
            points = [
                NumberDataPoint(p.attributes, p.start_time_unix_nano, p.time_unix_nano, scale(p.value), p.exemplars)
                for p in body.data_points
            ]
        elif isinstance(body, Histogram):
            points = [self._histogram_point(p) for p in body.data_points]
        else:
            return metric
        return Metric(
            metric.name,
            metric.description,
            metric.unit if self.unit is None else self.unit,
            dataclasses.replace(body, data_points=points),
        )

    def _histogram_point(self, point: HistogramDataPoint) -> HistogramDataPoint:
        n, d = self.numerator, self.denominator
        return dataclasses.replace(
            point,
            sum=point.sum * n / d,
            explicit_bounds=[b * n / d for b in point.explicit_bounds],
            min=point.min * n / d,
            max=point.max * n / d,
        )
