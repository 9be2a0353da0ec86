"""A cap on the distinct series (custom metrics, as CloudWatch bills them) each metric may create.

CloudWatch bills every distinct namespace + metric name + dimension name/value set as one custom
metric for each hour it receives data. A label with unbounded values (a table name, a task id)
turns into an unbounded bill; the guard admits the first `max_series_per_metric` series of each
metric and refuses new ones until old ones expire. Series already admitted keep flowing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from pydantic import Field

from collector.component import ConfigModel

DEFAULT_MAX_SERIES = 1000
# A series not seen for this long is forgotten (and no longer counts against the cap): the same
# staleness the exporters' cumulative-to-delta state uses, and CloudWatch's billing granularity
# (a custom metric that received nothing for an hour is not billed for that hour).
SERIES_EXPIRATION_S = 3600.0
REASON = "cardinality_limit"


class CardinalityConfig(ConfigModel):
    """The key both CloudWatch exporters share."""

    max_series_per_metric: int = Field(
        DEFAULT_MAX_SERIES,
        ge=0,
        description="Distinct dimension-value sets (CloudWatch custom metrics) per metric name; new ones "
        "over the cap are not sent as metrics (counted as dropped, reason cardinality_limit); 0 = no cap.",
    )


class SeriesGuard:
    """Admits at most `limit` distinct series per metric name; logs once per metric when it first
    overflows. Not thread-safe: one guard belongs to one exporter."""

    def __init__(
        self,
        limit: int,
        logger: Any,
        expiration: float = SERIES_EXPIRATION_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.logger = logger
        self.expiration = expiration
        self.clock = clock
        self._seen: dict[str, dict[Hashable, float]] = {}  # metric -> series -> last seen
        self._overflowed: set[str] = set()
        self._next_sweep = clock() + expiration

    def admitter(self) -> Callable[[str, Hashable], bool]:
        """`admit(metric, series)` for one batch: the clock is read (and expired series swept) once."""
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        seen, limit = self._seen, self.limit
        if not limit:
            return lambda metric, series: True

        def admit(metric: str, series: Hashable) -> bool:  # per point: keep it to dictionary operations
            try:
                known = seen[metric]
            except KeyError:
                known = seen[metric] = {}
            if series in known or len(known) < limit:
                known[series] = now
                return True
            self._refused(metric)
            return False

        return admit

    def admit(self, metric: str, series: Hashable) -> bool:
        """True when `series` of `metric` may be sent: already known, or there is room for it."""
        return self.admitter()(metric, series)

    def _refused(self, metric: str) -> None:
        if metric not in self._overflowed:
            self._overflowed.add(metric)
            self.logger.warning(
                "metric over max_series_per_metric: new series are not sent as metrics",
                extra={"metric": metric, "max_series_per_metric": self.limit},
            )

    def series_count(self, metric: str) -> int:
        return len(self._seen.get(metric, ()))

    def _sweep(self, now: float) -> None:
        """Forget series not seen within `expiration`, so memory and the cap follow live series."""
        self._next_sweep = now + self.expiration
        oldest = now - self.expiration
        for metric in list(self._seen):
            known = self._seen[metric]
            for series in [s for s, seen in known.items() if seen < oldest]:
                del known[series]
            if not known:
                del self._seen[metric]


# What `collector validate` prints (the exporters' `describe_cost` hooks) ---------------------------
UNKNOWN = "cannot be known without a target: "


def per_target(count: int, dimensions: str) -> str:
    """The line for a count the config determines, saying what it assumes about dimension values."""
    return (
        f"{count} custom metrics per target (dimension values: one per target assumed for {dimensions}; "
        "each further value of a dimension adds the metrics that use it again)"
    )
