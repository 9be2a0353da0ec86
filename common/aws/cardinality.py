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
# How stale a (metric, series) pair's last-seen time may get before it is written again: a minute
# against an hour's expiration, so an exporter sending every second does not rewrite every pair.
LAST_SEEN_RESOLUTION_S = 60.0


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
    overflows. Not thread-safe: one guard belongs to one exporter.

    Kept by series (dimension set and values), each with the metrics seen with it: an exporter admits
    the metric names of one label set at once (`admit_names`, per label set per batch), where the
    names already known cost one set difference (and, once a minute, one dictionary update), in C."""

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
        self._series: dict[Hashable, dict[str, float]] = {}  # series -> metric -> last seen
        self._refreshed: dict[Hashable, float] = {}  # series -> when its metrics' last seen were written
        self._counts: dict[str, int] = {}  # metric -> number of its series
        self._overflowed: set[str] = set()
        self._next_sweep = clock() + expiration

    def batch(self) -> float:
        """Start a batch: the clock is read (and expired series swept) once; pass the result on."""
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        return now

    def admit_names(self, series: Hashable, names: set[str], now: float) -> set[str]:
        """Admit every metric of `names` with this series; returns those refused (over the cap)."""
        known = self._series.get(series)
        if known is None:
            known = self._series[series] = {}
        refused: set[str] = set()
        new = names.difference(known)
        for name in new:  # new (metric, series) pairs only
            count = self._counts.get(name, 0)
            if self.limit and count >= self.limit:
                refused.add(name)
                self._refused(name)
            else:
                self._counts[name] = count + 1
                known[name] = now
        if now - self._refreshed.get(series, -LAST_SEEN_RESOLUTION_S) >= LAST_SEEN_RESOLUTION_S:
            known.update(dict.fromkeys(names - refused if refused else names, now))
            self._refreshed[series] = now
        if not known:
            del self._series[series]
            self._refreshed.pop(series, None)
        return refused

    def admit(self, metric: str, series: Hashable) -> bool:
        """True when `series` of `metric` may be sent: already known, or there is room for it."""
        return not self.admit_names(series, {metric}, self.batch())

    def _refused(self, metric: str) -> None:
        if metric not in self._overflowed:
            self._overflowed.add(metric)
            self.logger.warning(
                "metric over max_series_per_metric: new series are not sent as metrics",
                extra={"metric": metric, "max_series_per_metric": self.limit},
            )

    def series_count(self, metric: str) -> int:
        return self._counts.get(metric, 0)

    def _sweep(self, now: float) -> None:
        """Forget (metric, series) pairs not seen within `expiration`, so memory and the cap follow
        live series."""
        self._next_sweep = now + self.expiration
        oldest = now - self.expiration
        for series in list(self._series):
            known = self._series[series]
            for name in [n for n, seen in known.items() if seen < oldest]:
                del known[name]
                self._counts[name] -= 1
                if not self._counts[name]:
                    del self._counts[name]
            if not known:
                del self._series[series]
                self._refreshed.pop(series, None)


# What `collector validate` prints (the exporters' `describe_cost` hooks) ---------------------------
UNKNOWN = "cannot be known without a target: "


def per_target(count: int, dimensions: str) -> str:
    """The line for a count the config determines, saying what it assumes about dimension values."""
    return (
        f"{count} custom metrics per target (dimension values: one per target assumed for {dimensions}; "
        "each further value of a dimension adds the metrics that use it again)"
    )
