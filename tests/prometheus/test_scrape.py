"""OTLP in, Prometheus out: a real collector (otlp receiver -> prometheus exporter) scraped over HTTP and
parsed with prometheus-client's own parsers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from collector.testing import (
    DELTA,
    Exemplar,
    InstrumentationScope,
    MetricsData,
    Resource,
    create,
    gauge,
    histogram,
    histogram_point,
    metrics_data,
    number_point,
    sum_metric,
)
from exporters.prometheus import factory
from tests.otlpreceiver.conftest import free_port, listening, otlp_pipeline
from tests.prometheus.promtool import promtool_errors
from tests.support import run_collector, send_otlp, wait_for

S = 1_000_000_000
T0 = 1_700_000_000 * S
RESOURCE = Resource({"service.name": "kafka-connect", "service.instance.id": "worker-1", "host.name": "h1"})
SERVER = {"server": "inventory", "plugin": "mysql"}
OPENMETRICS = {"Accept": "application/openmetrics-text; version=1.0.0; charset=utf-8"}


def debezium_batch(step: int) -> MetricsData:
    """What the JMX receiver's Debezium preset produces, one scrape at step `step`."""
    end = T0 + (step + 1) * 60 * S
    exemplar = Exemplar({}, 3, end, span_id=0xABC, trace_id=0x123)
    events = number_point(100 * (step + 1), SERVER, start=T0, time=end, exemplars=[exemplar])
    latency = histogram_point((1, 2, 1), (5.0, 10.0), 35.0, SERVER, start=T0, time=end, min=1.0, max=20.0)
    return metrics_data(
        gauge(
            "debezium.streaming.MilliSecondsBehindSource",
            1500 + step,
            attributes=SERVER,
            time=end,
            unit="ms",
            description="Lag",
        ),
        sum_metric("debezium.streaming.TotalNumberOfEventsSeen", events, unit="{event}", description="Events seen"),
        sum_metric("debezium.streaming.Connected", 1, attributes=SERVER, start=T0, time=end, monotonic=False),
        # a delta counter from a delta-temporality sender: accumulated across pushes
        sum_metric(
            "connect.records.sent",
            10,
            attributes=SERVER,
            start=end - 60 * S,
            time=end,
            temporality=DELTA,
            unit="{record}",
        ),
        histogram("commit.latency", latency, unit="ms"),
        resource=RESOURCE,
        scope=InstrumentationScope("collector.jmx", "0.1.0"),
    )


@contextmanager
def otlp_to_prometheus(tmp_path, **exporter_settings) -> Iterator[tuple[int, str]]:
    grpc_port, prom_port = free_port(), free_port()
    exporters = {"prometheus": {"endpoint": f"127.0.0.1:{prom_port}", **exporter_settings}}
    config = otlp_pipeline(tmp_path, {"grpc": {"endpoint": f"127.0.0.1:{grpc_port}"}}, exporters)
    with run_collector(config) as process:
        try:
            wait_for(lambda: listening(grpc_port) and listening(prom_port), 30, "collector listening")
        except AssertionError:
            raise AssertionError(process.logs()) from None
        send_otlp(grpc_port, *(debezium_batch(step) for step in range(3)))
        yield prom_port, f"http://127.0.0.1:{prom_port}/metrics"


def scrape(url: str, headers: dict | None = None) -> requests.Response:
    def ready():
        response = requests.get(url, headers=headers, timeout=10)
        return response if "connect_records_sent" in response.text and "1502" in response.text else None

    return wait_for(ready, 20, "the three pushes are visible")


def test_prometheus_text_exposition(tmp_path):
    with otlp_to_prometheus(tmp_path, const_labels={"env": "test"}, enable_open_metrics=True) as (_, url):
        response = scrape(url)
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in parse_text(response.text)}
    assert promtool_errors(response.text) == ""
    expected_labels = {
        **SERVER,
        "job": "kafka-connect",
        "instance": "worker-1",
        "otel_scope_name": "collector.jmx",
        "otel_scope_version": "0.1.0",
        "env": "test",
    }

    lag = families["debezium_streaming_MilliSecondsBehindSource_milliseconds"]
    assert lag.type == "gauge" and lag.documentation == "Lag"
    ((labels, value),) = [(s.labels, s.value) for s in lag.samples]
    assert labels == expected_labels and value == 1502

    events = families["debezium_streaming_TotalNumberOfEventsSeen"]  # the parser strips _total
    assert events.type == "counter"
    assert [(s.name, s.value) for s in events.samples] == [("debezium_streaming_TotalNumberOfEventsSeen_total", 300)]
    assert families["debezium_streaming_Connected"].type == "gauge"  # a non-monotonic sum
    sent = families["connect_records_sent"]
    assert [(s.name, s.value) for s in sent.samples] == [("connect_records_sent_total", 30)]  # 3 aligned deltas

    latency = families["commit_latency_milliseconds"]
    assert latency.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in latency.samples if s.name.endswith("_bucket")}
    assert buckets == {"5.0": 1, "10.0": 3, "+Inf": 4}
    assert {s.name: s.value for s in latency.samples if not s.name.endswith("_bucket")} == {
        "commit_latency_milliseconds_count": 4,
        "commit_latency_milliseconds_sum": 35.0,
    }

    (target,) = families["target_info"].samples
    assert target.labels == {"host_name": "h1", "job": "kafka-connect", "instance": "worker-1"}
    assert not any(s.name.endswith("_created") for f in families.values() for s in f.samples)


def test_openmetrics_when_asked_and_enabled(tmp_path):
    with otlp_to_prometheus(tmp_path, enable_open_metrics=True, send_timestamps=True) as (_, url):
        response = scrape(url, OPENMETRICS)
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    families = {f.name: f for f in parse_openmetrics(response.text)}
    events = families["debezium_streaming_TotalNumberOfEventsSeen"]
    total = next(s for s in events.samples if s.name.endswith("_total"))
    created = next(s for s in events.samples if s.name.endswith("_created"))
    assert total.value == 300 and created.value == T0 / S
    assert total.exemplar.labels == {"trace_id": f"{0x123:032x}", "span_id": f"{0xABC:016x}"}
    assert total.exemplar.value == 3
    assert float(total.timestamp) == T0 / S + 180  # send_timestamps: the point's own time
    assert families["debezium_streaming_MilliSecondsBehindSource_milliseconds"].samples[0].value == 1502


def test_openmetrics_off_by_default_and_namespace_and_resource_labels(tmp_path):
    settings = {"namespace": "cdc", "resource_to_telemetry_conversion": {"enabled": True}}
    with otlp_to_prometheus(tmp_path, **settings) as (_, url):
        response = scrape(url, {**OPENMETRICS, "Accept-Encoding": "gzip"})
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response.headers["Content-Encoding"] == "gzip"
    families = {f.name: f for f in parse_text(response.text)}
    assert promtool_errors(response.text) == ""
    lag = families["cdc_debezium_streaming_MilliSecondsBehindSource_milliseconds"]
    assert lag.samples[0].labels["host_name"] == "h1" and lag.samples[0].labels["service_name"] == "kafka-connect"
    assert "cdc_target_info" in families


def test_jmx_exporter_names_restored():
    """What docs/prometheus.md promises: metricstransform-renamed points plus add_metric_suffixes: false
    give back jmx_exporter's exact series name and labels."""
    exporter = create(factory, {"add_metric_suffixes": False})
    attributes = {"context": "streaming", "name": "inventory", "plugin": "mysql"}
    lag = gauge("debezium_metrics_MilliSecondsBehindSource", 85, attributes=attributes, time=T0, unit="ms")
    renamed = metrics_data(lag, scope="")
    exporter.accumulator.accumulate(renamed)
    text = exporter.render(openmetrics=False).decode()
    assert 'debezium_metrics_MilliSecondsBehindSource{context="streaming",name="inventory",plugin="mysql"} 85.0' in text


def test_histogram_exemplars_go_to_their_bucket_in_openmetrics():
    exporter = create(factory, {"enable_open_metrics": True})
    small, big, nan = (Exemplar({}, v, T0, span_id=1, trace_id=2) for v in (0.5, 7.0, float("nan")))
    point = histogram_point(
        (1, 1, 1), (1.0, 5.0), 7.5, start=T0, time=T0 + S, min=0.5, max=7.0, exemplars=[small, big, nan]
    )
    exporter.accumulator.accumulate(metrics_data(histogram("h", point, unit="s")))
    (family,) = [f for f in parse_openmetrics(exporter.render(openmetrics=True).decode()) if f.name == "h_seconds"]
    exemplars = {s.labels["le"]: s.exemplar for s in family.samples if s.name.endswith("_bucket")}
    assert exemplars["1.0"].value == 0.5 and exemplars["5.0"] is None and exemplars["+Inf"].value == 7.0


def test_prometheus_config_errors_name_their_path(tmp_path):
    config = otlp_pipeline(
        tmp_path, {"grpc": None}, {"prometheus": {"endpoint": "nohost", "metric_expiration": "5", "const_labels": []}}
    )
    result = subprocess.run(
        [sys.executable, "-m", "collector", "validate", "--config", str(config)], capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2
    for path in ("endpoint", "metric_expiration", "const_labels"):
        assert f"exporters.prometheus.{path}" in output, output
