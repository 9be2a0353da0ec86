"""CloudWatch sums what it receives per period, so cumulative counters must arrive as increases."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field

from collector.component import ConfigModel, Exporter
from common.aws.cardinality import SERIES_EXPIRATION_S
from common.delta import DeltaTracker, InitialValue


class DeltaConfig(ConfigModel):
    """The Collector's awsemfexporter key for the first point of a cumulative series."""

    retain_initial_value_of_delta_metric: bool | None = Field(
        None,
        description="true: a series' first cumulative point is sent as its first delta; false: it only primes "
        "the conversion (the Collector's default); unset: ours, the first point is sent when its start time "
        "shows the counter began after the collector started (nothing of it was sent before).",
    )

    @property
    def initial_value(self) -> InitialValue:
        return {None: "auto", True: "keep", False: "drop"}[self.retain_initial_value_of_delta_metric]


class DeltaExporter(Exporter):
    """Base for exporters whose backend wants deltas: the conversion runs in `prepare`, i.e. once per
    batch in arrival order before queueing, so retries never re-subtract and the on-disk queue holds
    deltas. Monotonic cumulative sums, cumulative histograms and cumulative exponential histograms are
    converted; the first point of each follows `retain_initial_value_of_delta_metric`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        initial = self.config.initial_value if isinstance(self.config, DeltaConfig) else "auto"
        self.deltas = DeltaTracker(initial_value=initial, max_staleness=SERIES_EXPIRATION_S, exponential=True)

    def prepare(self, data: MetricsData) -> MetricsData:
        converted = self.deltas.convert(data)
        for reason, points in self.deltas.last_dropped.items():
            self.count_dropped(reason, points)
        return converted

    def count_dropped(self, reason: str, points: int) -> None:
        """A point CloudWatch would refuse (NaN, over a limit ...): counted, never sent."""
        if points:
            self.settings.telemetry.dropped_points.labels(component=self.id, reason=reason).inc(points)
