"""The collector's own metrics, under the OpenTelemetry Collector's names so its dashboards work.

Each service gets its own prometheus-client registry (tests run several services in one process).
"""

from __future__ import annotations

import os
import resource
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client import Gauge as PromGauge
from prometheus_client import Histogram as PromHistogram


def resident_memory_bytes() -> float:
    """Current RSS from /proc on Linux; elsewhere the peak, which is what getrusage offers."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Telemetry:
    """Counters labelled by component id, as the Collector's `otelcol_*` metrics are."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.started_at = time.monotonic()
        r = self.registry

        def counter(name: str, doc: str, label: str, *extra: str) -> Counter:
            return Counter(name, doc, [label, *extra], registry=r)

        self.receiver_accepted = counter(
            "otelcol_receiver_accepted_metric_points", "Points pushed into the pipeline.", "receiver"
        )
        self.receiver_refused = counter(
            "otelcol_receiver_refused_metric_points", "Points that could not be pushed.", "receiver"
        )
        self.scraper_errored = counter(
            "otelcol_scraper_errored_metric_points",
            "Points a scrape failed to read, by reason.",
            "receiver",
            "scraper",
            "reason",
        )
        self.processor_dropped = counter(
            "otelcol_processor_dropped_metric_points", "Points dropped by a processor.", "processor"
        )
        self.exporter_sent = counter(
            "otelcol_exporter_sent_metric_points", "Points delivered to the destination.", "exporter"
        )
        self.exporter_send_failed = counter(
            "otelcol_exporter_send_failed_metric_points", "Points that failed to send.", "exporter"
        )
        self.exporter_enqueue_failed = counter(
            "otelcol_exporter_enqueue_failed_metric_points", "Points refused by a full queue.", "exporter"
        )
        self.exporter_queue_size = PromGauge(
            "otelcol_exporter_queue_size", "Batches waiting in the sending queue.", ["exporter"], registry=r
        )
        self.exporter_queue_capacity = PromGauge(
            "otelcol_exporter_queue_capacity", "Sending queue capacity in batches.", ["exporter"], registry=r
        )
        self.exporter_storage_errors = counter(
            "collector_exporter_storage_errors",
            "Failed disk operations of a persistent sending queue, by operation (write, read, delete).",
            "exporter",
            "operation",
        )
        self.rejected_requests = counter(
            "collector_rejected_requests",
            "Requests and connections a listener refused, by reason (malformed, too_large, memory_limit, "
            "connection_limit, read_timeout ...).",
            "component",
            "reason",
        )
        self.dropped_points = counter(
            "collector_dropped_metric_points",
            "Points a component dropped as invalid, by reason (NaN, unsupported type ...).",
            "component",
            "reason",
        )

        self.scrape_duration = PromHistogram(
            "collector_scraper_scrape_duration_seconds",
            "How long each scrape took, failed ones included.",
            ["receiver"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.scrape_target_up = PromGauge(
            "collector_scraper_target_up",
            "1 when the last scrape reached its target, else 0 (Prometheus' `up`).",
            ["receiver"],
            registry=r,
        )
        self._own: dict[str, Counter] = {}
        uptime = PromGauge("otelcol_process_uptime", "Seconds since the collector started.", registry=r)
        uptime.set_function(lambda: time.monotonic() - self.started_at)
        rss = PromGauge("otelcol_process_memory_rss", "Resident memory of the collector, bytes.", registry=r)
        rss.set_function(resident_memory_bytes)

    def component_counter(self, name: str, documentation: str, labels: tuple[str, ...]) -> Counter:
        """A counter of a component's own (e.g. `collector_jmx_gateway_restarts`), created once per service
        however many instances ask for it."""
        if name not in self._own:
            self._own[name] = Counter(name, documentation, list(labels), registry=self.registry)
        return self._own[name]

    def value(self, name: str, **labels: str) -> float:
        """Current value of one series (0 when never incremented): for tests and the health check."""
        sample = self.registry.get_sample_value(name, labels)
        if sample is None and not name.endswith("_total"):
            sample = self.registry.get_sample_value(f"{name}_total", labels)
        return sample or 0.0

    def total(self, name: str) -> float:
        """Sum of a counter over all its label values (e.g. every receiver's accepted points)."""
        return sum(
            sample.value
            for family in self.registry.collect()
            for sample in family.samples
            if sample.name in (name, f"{name}_total")
        )

    async def handle_scrape(self, request: web.Request) -> web.Response:
        """GET /metrics in Prometheus text format, as the Collector serves its own metrics."""
        response = web.Response(body=generate_latest(self.registry))
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response
