"""With --log-format json every line the collector writes is one JSON object, across a whole life: start,
state changes (memory pressure, a backend down, a reload, a refused reload) and stop."""

from __future__ import annotations

import json
import signal

from tests.ops.conftest import free_port
from tests.support import run_collector, wait_for, write_config


def config(limit_mib: int, down_port: int, out) -> dict:
    return {
        "receivers": {
            "static": {"collection_interval": "100ms", "initial_delay": "0s", "metrics": [{"name": "lag", "value": 1}]}
        },
        "processors": {"memory_limiter": {"check_interval": "100ms", "limit_mib": limit_mib}},
        "exporters": {
            "file": {"path": str(out)},
            "otlp/down": {
                "endpoint": f"127.0.0.1:{down_port}",
                "tls": {"insecure": True},
                "retry_on_failure": {"initial_interval": "50ms", "max_interval": "100ms", "max_elapsed_time": "300ms"},
            },
        },
        "service": {
            "shutdown_grace_period": "1s",
            "pipelines": {
                "metrics": {
                    "receivers": ["static"],
                    "processors": ["memory_limiter"],
                    "exporters": ["file", "otlp/down"],
                }
            },
        },
    }


def entries(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
        assert isinstance(entry, dict), line
        assert {"ts", "level", "logger", "msg"} <= entry.keys(), line
        parsed.append(entry)
    return parsed


def test_every_line_is_json_from_start_to_stop(example_plugin, tmp_path):
    down_port, out = free_port(), tmp_path / "out.jsonl"
    path = write_config(tmp_path, config(1, down_port, out))  # limit below RSS: refusing from the start
    with run_collector(path, "--log-format", "json", python=example_plugin) as collector:
        wait_for(lambda: "refusing data" in collector.logs(), 30, "memory limiter refusing")

        write_config(tmp_path, config(1_000_000, down_port, out))
        collector.process.send_signal(signal.SIGHUP)
        wait_for(lambda: out.exists() and out.stat().st_size > 0, 30, "data flowing after the reload")
        wait_for(lambda: "export failed" in collector.logs(), 30, "the down backend given up on")

        (tmp_path / "otel-config.yaml").write_text("receivers: {static: {nope: 1}}\n", encoding="utf-8")
        collector.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in collector.logs(), 30, "bad reload refused")
        assert collector.stop() == 0

    logged = entries(collector.logs())
    messages = [entry["msg"] for entry in logged]
    expected_in_order = [
        "memory usage above the soft limit: refusing data",
        "collector started",
        "reloading configuration",
        "collector started",
        "export failed",
        "reload refused",
        "shutting down",
        "collector stopped",
    ]
    position = 0
    for expected in expected_in_order:
        position = next((i for i in range(position, len(messages)) if messages[i].startswith(expected)), None)
        assert position is not None, f"{expected!r} missing or out of order in {messages}"
        position += 1
    components = {entry.get("component") for entry in logged}
    assert {"memory_limiter", "otlp/down", "static"} <= components
    assert all(entry["level"] in {"debug", "info", "warning", "error"} for entry in logged)
