"""What the Debezium connectors' points say, as they leave the receivers: lag with its last hour, events
per second, connected, snapshot progress, schema-history state.

Every structure here is bounded: a fixed-size ring per lag series, at most `MAX_CONNECTORS` connectors
(the least recently seen go first) and connectors unseen for `HISTORY_S` are forgotten.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.metrics.export import Gauge, MetricsData, Sum

from collector.component import resource_key

HISTORY_S = 3600.0  # the sparkline's window: the last hour
HISTORY_POINTS = 720  # per lag series: an hour of 5 s scrapes; faster scrapes keep the last 720 readings
MAX_CONNECTORS = 5000
SPARK_COLUMNS = 120  # the sparkline's resolution: one column per 30 s of the hour
SPARK_BUCKET_S = HISTORY_S / SPARK_COLUMNS

LAG = "debezium.streaming.MilliSecondsBehindSource"
EVENTS = "debezium.streaming.TotalNumberOfEventsSeen"
CONNECTED = "debezium.streaming.Connected"
SNAPSHOT_FLAGS = {
    "debezium.snapshot.SnapshotRunning": "running",
    "debezium.snapshot.SnapshotPaused": "paused",
    "debezium.snapshot.SnapshotCompleted": "completed",
    "debezium.snapshot.SnapshotAborted": "aborted",
    "debezium.snapshot.SnapshotSkipped": "skipped",
}
TABLES_TOTAL = "debezium.snapshot.TotalTableCount"
TABLES_REMAINING = "debezium.snapshot.RemainingTableCount"
SCHEMA_HISTORY = "debezium.schema_history.Status"
WATCHED = {LAG, EVENTS, CONNECTED, TABLES_TOTAL, TABLES_REMAINING, SCHEMA_HISTORY, *SNAPSHOT_FLAGS}
# Point attributes that say which value a point is, not which connector: not part of its identity.
_VALUE_ATTRIBUTES = {"state", "table"}

Source = tuple[str, tuple[tuple[str, str], ...]]
"""(receiver id, resource key): where a connector's points come from, matched to a scrape target."""


@dataclass
class Connector:
    """One Debezium connector (a `server=` value, with its plugin and `custom.metric.tags`)."""

    attributes: dict[str, str]
    last_seen: float = 0.0
    lag: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=HISTORY_POINTS))
    # the highest lag per SPARK_BUCKET_S, kept as readings arrive, so drawing the hour costs 120 steps
    lag_buckets: deque[list[float]] = field(default_factory=lambda: deque(maxlen=SPARK_COLUMNS + 1))
    events: tuple[float, float] | None = None  # last (time, TotalNumberOfEventsSeen)
    events_per_s: float | None = None
    connected: bool | None = None
    snapshot_flags: dict[str, bool] = field(default_factory=dict)
    tables_total: int | None = None
    tables_remaining: int | None = None
    schema_history: str | None = None

    @property
    def server(self) -> str:
        return self.attributes.get("server", "")

    @property
    def lag_ms(self) -> float | None:
        return self.lag[-1][1] if self.lag else None

    @property
    def snapshot_state(self) -> str:
        """The first true flag in Debezium's order of precedence, else `not started`."""
        for state in ("running", "paused", "aborted", "completed", "skipped"):
            if self.snapshot_flags.get(state):
                return state
        return "not started" if self.snapshot_flags else "unknown"

    def update(self, name: str, attributes: Mapping[str, Any], at: float, value: float) -> None:
        self.last_seen = max(self.last_seen, at)
        if name == LAG:
            self.lag.append((at, value))
            bucket = (at // SPARK_BUCKET_S) * SPARK_BUCKET_S
            if self.lag_buckets and self.lag_buckets[-1][0] == bucket:
                self.lag_buckets[-1][1] = max(self.lag_buckets[-1][1], value)
            elif not self.lag_buckets or bucket > self.lag_buckets[-1][0]:  # a late reading only joins the list
                self.lag_buckets.append([bucket, value])
        elif name == EVENTS:
            previous, self.events = self.events, (at, value)
            if previous is not None and at > previous[0]:
                # a restarted connector starts counting from 0 again: no rate across the reset
                self.events_per_s = (value - previous[1]) / (at - previous[0]) if value >= previous[1] else None
        elif name == CONNECTED:
            self.connected = bool(value)
        elif name in SNAPSHOT_FLAGS:
            self.snapshot_flags[SNAPSHOT_FLAGS[name]] = bool(value)
        elif name == TABLES_TOTAL:
            self.tables_total = int(value)
        elif name == TABLES_REMAINING:
            self.tables_remaining = int(value)
        elif name == SCHEMA_HISTORY and value:
            self.schema_history = str(attributes.get("state", ""))

    def lag_history(self, now: float) -> list[tuple[float, float]]:
        """The readings of the last hour (the ring is in arrival order, which is time order)."""
        readings = list(self.lag)
        return readings[bisect_left(readings, (now - HISTORY_S, float("-inf"))) :]

    def lag_sparkline(self, now: float) -> list[tuple[float, float]]:
        """(bucket start, highest lag in it) for every bucket of the last hour that had a reading."""
        return [(t, v) for t, v in self.lag_buckets if t >= now - HISTORY_S - SPARK_BUCKET_S]


class ConnectorTracker:
    """Debezium connectors by source, fed with every batch a receiver emits."""

    def __init__(self, max_connectors: int = MAX_CONNECTORS) -> None:
        self.max_connectors = max_connectors
        self._connectors: dict[Source, dict[tuple[tuple[str, str], ...], Connector]] = {}
        self._count = 0

    def observe(self, receiver_id: str, data: MetricsData) -> None:
        for rm in data.resource_metrics:
            source: Source | None = None
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name not in WATCHED or not isinstance(metric.data, Gauge | Sum):
                        continue
                    source = source or (receiver_id, resource_key(rm.resource.attributes))
                    for point in metric.data.data_points:
                        attributes = point.attributes or {}
                        if "server" not in attributes or not math.isfinite(point.value):  # JSON has no NaN
                            continue
                        at = point.time_unix_nano / 1e9
                        self._connector(source, attributes).update(metric.name, attributes, at, float(point.value))

    def _connector(self, source: Source, attributes: Mapping[str, Any]) -> Connector:
        identity = tuple(sorted((str(k), str(v)) for k, v in attributes.items() if k not in _VALUE_ATTRIBUTES))
        connectors = self._connectors.setdefault(source, {})
        connector = connectors.get(identity)
        if connector is None:
            if self._count >= self.max_connectors:
                self._evict_oldest()
            connector = connectors[identity] = Connector(dict(identity))
            self._count += 1
        return connector

    def _evict_oldest(self) -> None:
        source, identity, _ = min(
            ((s, i, c.last_seen) for s, group in self._connectors.items() for i, c in group.items()),
            key=lambda entry: entry[2],
        )
        self._remove(source, identity)

    def _remove(self, source: Source, identity: tuple[tuple[str, str], ...]) -> None:
        group = self._connectors[source]
        del group[identity]
        self._count -= 1
        if not group:
            del self._connectors[source]

    def expire(self, now: float) -> None:
        """Forget connectors not seen for an hour (renamed, removed, or their target is gone)."""
        stale = [
            (s, i) for s, group in self._connectors.items() for i, c in group.items() if c.last_seen < now - HISTORY_S
        ]
        for source, identity in stale:
            self._remove(source, identity)

    def sources(self) -> Iterator[tuple[Source, list[Connector]]]:
        for source, group in self._connectors.items():
            yield source, sorted(group.values(), key=lambda c: (c.server, sorted(c.attributes.items())))

    def __len__(self) -> int:
        return self._count
