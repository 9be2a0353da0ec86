"""Fault suite: a JMX target unreachable at start comes up, goes away and comes back. A real collector
(jmx receiver, health_check, file exporter) keeps running, reports the target's state, recovers within
two intervals of the target being ready, and delivers every point it accepted."""

import json
import time
import urllib.error
import urllib.request

from tests.jmx import testbed
from tests.support import free_port, own_metric, pipeline_config, read_points, run_collector, wait_for, write_config

INTERVAL_S = 1.0
JVM_READY_ALLOWANCE_S = 8.0  # a target JVM's JMX registry can take a few seconds on a busy machine


def health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def up_values(out) -> list[int]:
    return [p.value for p in read_points(out) if p.name == "jmx.up"]


def test_target_down_at_start_then_up_then_restarted(tmp_path):
    jmx_port, health_port, metrics_port = free_port(), free_port(), free_port()
    out = tmp_path / "out.jsonl"
    edge = {
        "endpoint": f"127.0.0.1:{jmx_port}",
        "target_system": "jvm",
        "collection_interval": "1s",
        "initial_delay": "0s",
    }
    config = pipeline_config(
        {"jmx/edge": edge},
        {"file": {"path": str(out)}},
        extensions={"health_check": {"endpoint": f"127.0.0.1:{health_port}"}},
        telemetry={"metrics": {"address": f"127.0.0.1:{metrics_port}"}},
    )
    config = write_config(tmp_path, config)
    with run_collector(config, "--log-format", "json", free_telemetry_port=False) as collector:
        wait_for(lambda: up_values(out).count(0) >= 2, 60, "jmx.up = 0 while the target is down")
        assert own_metric(metrics_port, 'collector_scraper_target_up{receiver="jmx/edge"}') == 0
        status, body = health(health_port)
        assert status == 200, body  # the collector is healthy; its target is not
        assert body["components"]["jmx/edge"]["status"] == "degraded"
        assert "target unreachable" in body["components"]["jmx/edge"]["detail"]

        for _round in range(2):  # first start, then a restart of the target on the same port
            with testbed.edge_case_target(port=jmx_port):
                ready = time.monotonic()
                wait_for(
                    lambda: up_values(out)[-1:] == [1],
                    2 * INTERVAL_S + JVM_READY_ALLOWANCE_S,
                    "scraping resumed within two intervals of the target being ready",
                )
                assert time.monotonic() - ready <= 2 * INTERVAL_S + JVM_READY_ALLOWANCE_S
                wait_for(
                    lambda: health(health_port)[1]["components"]["jmx/edge"]["status"] == "ok",
                    10,
                    "health shows the receiver ok again",
                )
                assert any(p.name.startswith("jvm.memory") for p in read_points(out))
                assert own_metric(metrics_port, 'collector_scraper_target_up{receiver="jmx/edge"}') == 1
            wait_for(lambda: up_values(out)[-1:] == [0], 10, "the stopped target is seen as down")
        assert own_metric(metrics_port, 'collector_scraper_scrape_duration_seconds_count{receiver="jmx/edge"}') >= 5
        assert collector.stop() == 0

    logs = [json.loads(line) for line in collector.logs().splitlines() if line.startswith("{")]
    messages = [entry["msg"] for entry in logs if entry.get("component") == "jmx/edge"]
    # one line per state change: down, up, down, up, down
    assert sum(m.startswith("target unreachable") for m in messages) == 3, messages
    assert sum(m == "target reachable" for m in messages) == 2, messages
    summary = next(entry for entry in logs if entry["msg"] == "collector stopped")
    assert summary["accepted_points"] == summary["sent_points"] == len(read_points(out))
    assert summary["failed_points"] == 0
