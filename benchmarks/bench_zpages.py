"""How long /debug/targetz takes to build and render for 200 scrape targets, each holding one Debezium
connector with a full hour of lag history (the ring's `HISTORY_POINTS` readings): `zpages_targetz_render_ms`,
bounded by the issue's "well under a second". The page is rendered on the event loop, so this is also how
long one page view holds the loop."""

from __future__ import annotations

import time

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from benchmarks.figures import Figure, median_seconds
from collector.component import ScrapeTargets
from extensions.zpages import render
from extensions.zpages.connectors import HISTORY_POINTS, HISTORY_S, ConnectorTracker
from extensions.zpages.extension import targetz_data

FIGURES = ("zpages_targetz_render_ms",)
TARGETS = 200
SCOPE = InstrumentationScope("bench")


def scrape(at: float, step: int) -> MetricsData:
    """One scrape of every target: lag, events and connected of its connector."""
    now = int(at * 1e9)
    resource_metrics = []
    for t in range(TARGETS):
        attributes = {"server": f"db{t}", "plugin": "mysql"}
        metrics = [
            Metric(
                "debezium.streaming.MilliSecondsBehindSource",
                "",
                "ms",
                Gauge([NumberDataPoint(attributes, 0, now, 100 + (step * 37 + t) % 5000)]),
            ),
            Metric(
                "debezium.streaming.TotalNumberOfEventsSeen",
                "",
                "{event}",
                Sum([NumberDataPoint(attributes, 1, now, step * 10)], AggregationTemporality.CUMULATIVE, True),
            ),
            Metric("debezium.streaming.Connected", "", "1", Gauge([NumberDataPoint(attributes, 0, now, 1)])),
        ]
        resource = Resource({"server.address": f"worker-{t}", "server.port": 7098})
        resource_metrics.append(ResourceMetrics(resource, [ScopeMetrics(SCOPE, metrics, "")], ""))
    return MetricsData(resource_metrics)


def workload(now: float) -> tuple[ScrapeTargets, ConnectorTracker]:
    targets, tracker = ScrapeTargets(), ConnectorTracker()
    interval = HISTORY_S / HISTORY_POINTS
    for step in range(HISTORY_POINTS):
        tracker.observe("jmx/fleet", scrape(now - HISTORY_S + step * interval, step))
    for t in range(TARGETS):
        resource = {"server.address": f"worker-{t}", "server.port": 7098}
        targets.record(
            "jmx/fleet",
            f"worker-{t}:7098",
            resource,
            up=t % 17 != 0,
            detail="Connection refused",
            started=now - 5,
            duration_s=0.02,
            points=180,
            errors={"nan": t % 3},
        )
    return targets, tracker


def run(quick: bool) -> list[Figure]:
    now = time.time()
    targets, tracker = workload(now)

    def render_page() -> str:
        data = targetz_data(targets.all(), tracker, {"generated_at": now, "refresh_s": 10})
        return render.page("targetz", "Targets", 10, now, render.targetz(data))

    assert render_page().count('class="connector"') == TARGETS
    seconds = median_seconds(render_page, repeat=5 if quick else 20)
    return [Figure("zpages_targetz_render_ms", seconds * 1000, "ms", target="<= 1000")]
