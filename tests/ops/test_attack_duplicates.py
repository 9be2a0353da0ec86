"""Issue 18 item 8: one 600,000-point request to the file exporter used to be written twice (the export
timed out while its thread kept writing, and the retry wrote it again) and then counted failed. Now the
batch is written in parts, each within the timeout, exactly once, and counted sent."""

from __future__ import annotations

import time

import requests

from tests.ops.attack import PROTOBUF, big_request, points_written
from tests.ops.conftest import free_port, listening, scrape_own_metrics
from tests.support import run_collector, wait_for, write_config

POINTS = 600_000
SENT = 'otelcol_exporter_sent_metric_points_total{exporter="file"}'
FAILED = 'otelcol_exporter_send_failed_metric_points_total{exporter="file"}'


def test_a_600k_point_request_is_written_once_and_counted_sent(tmp_path):
    http_port, telemetry_port, out = free_port(), free_port(), tmp_path / "out.jsonl"
    config = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": f"127.0.0.1:{http_port}"}}}},
        "exporters": {"file": {"path": str(out)}},
        "service": {
            "telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry_port}"}},
            "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["file"]}},
        },
    }
    body = big_request(POINTS)
    with run_collector(write_config(tmp_path, config), free_telemetry_port=False) as collector:
        wait_for(lambda: listening(http_port), 30, f"listening:\n{collector.logs()}")
        response = requests.post(f"http://127.0.0.1:{http_port}/v1/metrics", data=body, headers=PROTOBUF, timeout=300)
        assert response.status_code == 200, response.text
        wait_for(lambda: scrape_own_metrics(telemetry_port).get(SENT) == POINTS, 600, "all points counted sent")
        time.sleep(1)  # a retry or duplicate write, if there were one, would be under way
        assert points_written(out) == POINTS
        own = scrape_own_metrics(telemetry_port)
        assert own.get(FAILED, 0) == 0
        assert collector.stop() == 0
    assert points_written(out) == POINTS  # shutdown made no further attempt
    assert "retrying" not in collector.logs()
