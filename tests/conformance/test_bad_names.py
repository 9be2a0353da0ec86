"""Metric names no exporter can write are dropped and counted where data enters a pipeline, for every
exporter, and one such metric no longer takes the Prometheus endpoint down (it used to answer every
later scrape with HTTP 500)."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families as parse_text

from collector.testing import gauge, metrics_data
from collector.validity import MAX_NAME_LENGTH, drop_invalid_names, name_problem
from tests.support import free_port, run_collector, send_otlp, wait_for, wait_listening, write_config


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty_name"),
        ("x" * (MAX_NAME_LENGTH + 1), "name_too_long"),
        ("bad\ud800name", "name_not_utf8"),
        ("line\nbreak", "name_control_character"),
        ("nul\x00", "name_control_character"),
        ("del\x7f", "name_control_character"),
        ("c1\x85", "name_control_character"),
        ("x" * MAX_NAME_LENGTH, None),
        ("debezium.streaming.MilliSecondsBehindSource", None),
        ("with space and ünïcode", None),
        ("zero\u200bwidth", None),  # a format character: odd, but every exporter can write it
    ],
)
def test_name_rule(name, reason):
    assert name_problem(name) == reason


def test_good_batches_pass_untouched_bad_metrics_go_with_their_points_counted():
    good = metrics_data(gauge("a", 1), gauge("b", 1))
    assert drop_invalid_names(good) == (good, {})
    kept, dropped = drop_invalid_names(metrics_data(gauge("a", 1), gauge("", 1, 1, 1), gauge("b\n", 1, 1)))
    assert [m.name for rm in kept.resource_metrics for sm in rm.scope_metrics for m in sm.metrics] == ["a"]
    assert dropped == {"empty_name": 3, "name_control_character": 2}
    emptied, dropped = drop_invalid_names(metrics_data(gauge("", 1)))
    assert emptied.resource_metrics == [] and dropped == {"empty_name": 1}


def test_an_empty_name_through_otlp_never_breaks_a_scrape(tmp_path):
    grpc_port, prom_port, telemetry_port = free_port(), free_port(), free_port()
    out = tmp_path / "out.jsonl"
    config = write_config(
        tmp_path,
        {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{grpc_port}"}}}},
            "exporters": {"prometheus": {"endpoint": f"127.0.0.1:{prom_port}"}, "file": {"path": str(out)}},
            "service": {
                "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["prometheus", "file"]}},
                "telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry_port}"}},
            },
        },
    )
    with run_collector(config, free_telemetry_port=False) as process:
        wait_listening(process, grpc_port, prom_port)
        mixed = metrics_data(gauge("good.before", 1), gauge("", 2, 2), gauge("bad\nname", 3), gauge("good.after", 4))
        send_otlp(grpc_port, mixed, metrics_data(gauge("good.later", 5)))

        def scraped():
            response = requests.get(f"http://127.0.0.1:{prom_port}/metrics", timeout=10)
            return response if "good_later" in response.text else None

        for _ in range(3):  # every scrape, not only the first
            response = wait_for(scraped, 20, "the later batch is visible")
            assert response.status_code == 200
            names = {f.name for f in parse_text(response.text)}
            assert {"good_before", "good_after", "good_later"} <= names
        own = requests.get(f"http://127.0.0.1:{telemetry_port}/metrics", timeout=10).text
        families = {f.name: f for f in parse_text(own)}
        dropped = {
            s.labels["reason"]: s.value
            for s in families["collector_dropped_metric_points"].samples
            if s.name.endswith("_total") and s.labels["component"] == "otlp"
        }
        assert dropped == {"empty_name": 2, "name_control_character": 1}
        wait_for(lambda: out.exists() and "good.later" in out.read_text(), 20, "the file exporter got the rest")
        assert '"name":""' not in out.read_text().replace(" ", "")  # no exporter sees the bad names
