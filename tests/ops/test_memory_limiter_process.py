"""A real collector whose memory_limiter is set below its own RSS refuses what the OTel SDK's OTLP
exporters push (503 / UNAVAILABLE), counts it on its own metrics endpoint, and accepts again once a SIGHUP
reload raises the limit. The limiter is asked before a request is decoded, so what it refuses is counted
as refused requests (the points inside were never decoded, so never counted)."""

from __future__ import annotations

import signal

import requests
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HttpExporter
from opentelemetry.sdk.metrics.export import MetricExportResult

from collector.metrics import count_points
from collector.testing import every_kind
from tests.ops.conftest import free_port, listening, scrape_own_metrics
from tests.support import read_points, run_collector, wait_for, write_config

REFUSED = 'collector_rejected_requests_total{component="otlp",reason="memory_limit"}'
ACCEPTED = 'otelcol_receiver_accepted_metric_points_total{receiver="otlp"}'


def config(grpc_port: int, http_port: int, telemetry_port: int, out, limit_mib: int) -> dict:
    return {
        "receivers": {
            "otlp": {
                "protocols": {
                    "grpc": {"endpoint": f"127.0.0.1:{grpc_port}"},
                    "http": {"endpoint": f"127.0.0.1:{http_port}"},
                }
            }
        },
        "processors": {"memory_limiter": {"check_interval": "100ms", "limit_mib": limit_mib}},
        "exporters": {"file": {"path": str(out)}},
        "service": {
            "telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry_port}"}},
            "pipelines": {"metrics": {"receivers": ["otlp"], "processors": ["memory_limiter"], "exporters": ["file"]}},
        },
    }


def test_refused_under_memory_pressure_then_accepted_after_reload(tmp_path, caplog):
    grpc_port, http_port, telemetry_port = free_port(), free_port(), free_port()
    out = tmp_path / "out.jsonl"
    path = write_config(tmp_path, config(grpc_port, http_port, telemetry_port, out, limit_mib=1))  # RSS is far above
    data, points = every_kind(), count_points(every_kind())
    http_url = f"http://127.0.0.1:{http_port}/v1/metrics"

    with run_collector(path, free_telemetry_port=False) as collector:
        wait_for(lambda: listening(http_port) and listening(grpc_port), 30, f"listening:\n{collector.logs()}")

        response = requests.post(
            http_url,
            data=encode_metrics(data).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=10,
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
        assert scrape_own_metrics(telemetry_port)[REFUSED] == 1

        assert HttpExporter(endpoint=http_url, timeout=2).export(data) is MetricExportResult.FAILURE
        grpc = GrpcExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True, timeout=2)
        assert grpc.export(data) is MetricExportResult.FAILURE
        grpc.shutdown()

        own = scrape_own_metrics(telemetry_port)
        assert own[REFUSED] >= 3  # each SDK exporter was refused at least once (it retries UNAVAILABLE)
        assert own.get('otelcol_receiver_refused_metric_points_total{receiver="otlp"}', 0) == 0  # never decoded
        assert own.get(ACCEPTED, 0) == 0
        assert read_points(out) == []
        # one line for the state change, not one per request
        assert collector.logs().count("memory usage above the soft limit: refusing data") == 1
        sdk_said = " ".join(r.getMessage() for r in caplog.records)
        assert "Service Unavailable" in sdk_said and "StatusCode.UNAVAILABLE" in sdk_said

        refused_before_reload = own[REFUSED]
        write_config(tmp_path, config(grpc_port, http_port, telemetry_port, out, limit_mib=1_000_000))
        collector.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "collector started" in collector.logs().partition("reloading configuration")[2], 30, "reload")

        assert HttpExporter(endpoint=http_url, timeout=5).export(data) is MetricExportResult.SUCCESS
        grpc = GrpcExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True, timeout=5)
        assert grpc.export(data) is MetricExportResult.SUCCESS
        grpc.shutdown()
        wait_for(lambda: len(read_points(out)) == 2 * points, 10, "both batches written")

        own = scrape_own_metrics(telemetry_port)
        assert own[ACCEPTED] == 2 * points
        assert own[REFUSED] == refused_before_reload  # telemetry survived the reload; nothing refused since
        assert collector.stop() == 0
    assert "memory usage back below the soft limit" not in collector.logs()  # a new limiter starts below
