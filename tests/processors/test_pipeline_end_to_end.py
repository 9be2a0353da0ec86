"""Real collector processes: the example plugin's `static` receiver -> processors -> `file` exporter."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from tests.support import read_points, run_collector, wait_for, write_config


def static_pipeline(tmp_path: Path, metrics: list[dict[str, Any]], processors: dict[str, Any], interval: str):
    """A config: one `static` receiver emitting `metrics`, then `processors` in order, into a file."""
    out = tmp_path / "out.jsonl"
    config = {
        "receivers": {"static": {"collection_interval": interval, "initial_delay": "0s", "metrics": metrics}},
        "processors": processors,
        "exporters": {"file": {"path": str(out)}},
        "service": {
            "pipelines": {"metrics": {"receivers": ["static"], "processors": list(processors), "exporters": ["file"]}}
        },
    }
    return write_config(tmp_path, config), out


def test_debezium_lag_is_renamed_rescaled_and_given_a_cloudwatch_dimension(example_plugin, tmp_path):
    config, out = static_pipeline(
        tmp_path,
        [
            {
                "name": "debezium.streaming.MilliSecondsBehindSource",
                "type": "gauge",
                "unit": "ms",
                "value": 2500,
                "attributes": {"server": "inventory", "context": "streaming"},
            },
            {"name": "debezium.streaming.TotalNumberOfEventsSeen", "type": "sum", "increment": 7},
        ],
        {
            "rename/cloudwatch": {
                "rules": [
                    {
                        "include": r"^debezium\.streaming\.(?P<attr>.*)$",
                        "match_type": "regexp",
                        "new_name": "$${attr}",  # $$ escapes ${...} from env expansion, as in the Collector
                    }
                ]
            },
            "rescale/seconds": {"rules": [{"include": "MilliSecondsBehindSource", "from_unit": "ms", "to_unit": "s"}]},
            "attributes/dimensions": {
                "actions": [{"key": "DBServerName", "from_attribute": "server", "action": "rename"}],
                "include": {"match_type": "strict", "metric_names": ["MilliSecondsBehindSource"]},
            },
        },
        interval="200ms",
    )
    with run_collector(config, python=example_plugin) as collector:
        wait_for(lambda: len(read_points(out)) >= 6, 20, "three scrapes of two metrics in the file")
        assert collector.stop() == 0, collector.logs()

    points = read_points(out)
    assert {p.name for p in points} == {"MilliSecondsBehindSource", "TotalNumberOfEventsSeen"}
    lag = [p for p in points if p.name == "MilliSecondsBehindSource"]
    assert lag and all(p.value == 2.5 and p.unit == "s" and p.type == "gauge" for p in lag)
    assert all(p.attributes == {"DBServerName": "inventory", "context": "streaming"} for p in lag)
    events = [p for p in points if p.name == "TotalNumberOfEventsSeen"]
    assert [p.value for p in events][:3] == [0, 7, 14]  # untouched by rescale and attributes


def test_counters_become_deltas_and_batch_flushes_on_shutdown(example_plugin, tmp_path):
    config, out = static_pipeline(
        tmp_path,
        [{"name": "events", "type": "sum", "increment": 3, "attributes": {"server": "a"}}],
        # auto keeps the first point: the receiver's counter started after the processor
        {"cumulativetodelta": {}, "batch": {"send_batch_size": 1000, "timeout": "1h"}},
        interval="100ms",
    )
    with run_collector(config, python=example_plugin) as collector:
        wait_for(lambda: "collector started" in collector.logs(), 20, "the collector started")
        time.sleep(1.0)
        assert read_points(out) == []  # held by batch: the timeout is an hour
        assert collector.stop() == 0, collector.logs()

    points = read_points(out)
    assert len(points) >= 3
    assert [p.value for p in points] == [0] + [3] * (len(points) - 1)
    assert all(p.temporality == 1 and p.monotonic for p in points)  # AGGREGATION_TEMPORALITY_DELTA
    assert all(later.start_time == earlier.time for earlier, later in itertools.pairwise(points))
