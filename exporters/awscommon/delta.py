"""CloudWatch sums what it receives per period, so cumulative counters must arrive as increases."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Exporter
from exporters.awscommon.cardinality import SERIES_EXPIRATION_S
from processors.cumulativetodelta.tracker import DeltaTracker


class DeltaExporter(Exporter):
    """Base for exporters whose backend wants deltas: the conversion runs in `prepare`, i.e. once per
    batch in arrival order before queueing, so retries never re-subtract and the on-disk queue holds
    deltas. The first point of each counter only primes the tracker (the Collector's `auto`)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.deltas = DeltaTracker(initial_value="auto", max_staleness=SERIES_EXPIRATION_S)

    def prepare(self, data: MetricsData) -> MetricsData:
        converted = self.deltas.convert(data)
        for reason, points in self.deltas.last_dropped.items():
            self.count_dropped(reason, points)
        return converted

    def count_dropped(self, reason: str, points: int) -> None:
        """A point CloudWatch would refuse (NaN, over a limit ...): counted, never sent."""
        if points:
            self.settings.telemetry.dropped_points.labels(component=self.id, reason=reason).inc(points)
