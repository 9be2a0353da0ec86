"""SIGHUP reloads the config: a bad one is refused and the old pipelines keep running."""

import json
import signal

from tests.support import read_points, run_collector, wait_for, write_config


def config(tmp_path, out, name="lag"):
    return {
        "receivers": {
            "static": {"collection_interval": "50ms", "initial_delay": "0s", "metrics": [{"name": name, "value": 1}]}
        },
        "exporters": {"file": {"path": str(out)}},
        "service": {"pipelines": {"metrics": {"receivers": ["static"], "exporters": ["file"]}}},
    }


def test_sighup_applies_a_valid_config_and_refuses_a_bad_one(example_plugin, tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    path = write_config(tmp_path, config(tmp_path, first))
    with run_collector(path, "--log-format", "json", python=example_plugin) as collector:
        wait_for(lambda: len(read_points(first)) >= 3, 20, "first pipeline exporting")

        write_config(tmp_path, config(tmp_path, second, name="renamed"))
        collector.process.send_signal(signal.SIGHUP)
        wait_for(lambda: len(read_points(second)) >= 3, 20, "reloaded pipeline exporting")
        assert {p.name for p in read_points(second)} == {"renamed"}

        (tmp_path / "otel-config.yaml").write_text("receivers: {static: {nope: 1}}\n", encoding="utf-8")
        collector.process.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in collector.logs(), 20, "bad reload refused")
        before = len(read_points(second))
        wait_for(lambda: len(read_points(second)) >= before + 3, 20, "old pipeline still exporting")
        assert collector.stop() == 0

    logs = [json.loads(line) for line in collector.logs().splitlines() if line.startswith("{")]
    refused = [entry for entry in logs if entry["msg"].startswith("reload refused")]
    assert "receivers.static.nope: unknown key 'nope'" in refused[0]["msg"]
    # telemetry survives the reload: the final summary counts both pipelines' points, all delivered
    summary = [entry for entry in logs if entry["msg"] == "collector stopped"][-1]
    assert summary["accepted_points"] == summary["sent_points"] == len(read_points(first)) + len(read_points(second))
