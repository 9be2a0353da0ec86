"""The collector's own metrics, under the OpenTelemetry Collector's names so its dashboards work.

Each service gets its own prometheus-client registry (tests run several services in one process).
"""

from __future__ import annotations

import os
import resource
import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client import Gauge as PromGauge


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
            "otelcol_scraper_errored_metric_points", "Points a scrape failed to read.", "receiver", "scraper"
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
        self.dropped_points = counter(
            "collector_dropped_metric_points",
            "Points a component dropped as invalid, by reason (NaN, unsupported type ...).",
            "component",
            "reason",
        )

        uptime = PromGauge("otelcol_process_uptime", "Seconds since the collector started.", registry=r)
        uptime.set_function(lambda: time.monotonic() - self.started_at)
        rss = PromGauge("otelcol_process_memory_rss", "Resident memory of the collector, bytes.", registry=r)
        rss.set_function(resident_memory_bytes)

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

    def http_response(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        """`/metrics` in Prometheus text format (the Collector serves its own metrics the same way)."""
        if path.split("?")[0] not in ("/metrics", "/"):
            return 404, "text/plain", b"not found: try /metrics\n"
        return 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
