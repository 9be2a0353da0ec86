"""A real collector process killed with SIGKILL while its awsemf queue waits on disk delivers that data
after a restart, exactly once; the dummy AWS credentials never reach its logs."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.awsexporters.conftest import AWS_ENV, DUMMY_KEY_ID, DUMMY_SECRET, REGION, MotoServer
from tests.awsexporters.emf_rules import check_document
from tests.awsexporters.test_emf_cloudwatch import read_events
from tests.support import run_collector, wait_for, write_config

pytestmark = pytest.mark.integration

GROUP = "/metrics/restart"


def collector_config(tmp_path: Path, endpoint: str) -> dict[str, Any]:
    return {
        "receivers": {
            "static": {
                "collection_interval": "200ms",
                "metrics": [
                    {
                        "name": "MilliSecondBehindSource",
                        "unit": "ms",
                        "value": 42,
                        "attributes": {"DBServerName": "inv"},
                    }
                ],
            }
        },
        "exporters": {
            "awsemf": {
                "namespace": "MSK_Connect",
                "region": REGION,
                "endpoint": endpoint,
                "log_group_name": GROUP,
                "log_stream_name": "collector",
                "metric_declarations": [
                    {"dimensions": [["DBServerName"]], "metric_name_selectors": ["^MilliSecondBehindSource$"]}
                ],
                "timeout": "2s",
                "retry_on_failure": {"initial_interval": "200ms", "max_interval": "500ms", "max_elapsed_time": 0},
                "sending_queue": {"storage": "file_storage", "num_consumers": 1},
            }
        },
        "extensions": {"file_storage": {"directory": str(tmp_path / "queue"), "create_directory": True}},
        "service": {
            "extensions": ["file_storage"],
            "telemetry": {"logs": {"level": "debug"}},
            "pipelines": {"metrics": {"receivers": ["static"], "exporters": ["awsemf"]}},
        },
    }


def queued(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "queue").glob("*/*.batch"))


def test_sigkill_with_queue_on_disk_then_restart(example_plugin: None, own_moto: MotoServer, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, collector_config(tmp_path, own_moto.endpoint))
    with run_collector(config_path, env=AWS_ENV, python=example_plugin) as first:
        wait_for(lambda: len(queued(tmp_path)) >= 4, 30, "batches queued on disk while CloudWatch is down")
        first.stop(signal.SIGKILL)
        first_logs = first.logs()
    killed_at_ms = int(time.time() * 1000)
    on_disk = len(queued(tmp_path))
    assert on_disk >= 4

    own_moto.start()
    with run_collector(config_path, env=AWS_ENV, python=example_plugin) as second:
        wait_for(
            lambda: len([e for e in _events(own_moto) if e["timestamp"] < killed_at_ms]) >= on_disk,
            60,
            "every batch of the killed run read back",
        )
        wait_for(lambda: len(queued(tmp_path)) < on_disk, 30, "delivered batches removed from disk")
        second.stop()
        second_logs = second.logs()
    before_kill = [e for e in _events(own_moto) if e["timestamp"] < killed_at_ms]
    assert len(before_kill) == on_disk  # each queued batch exactly once
    for event in before_kill:
        document = check_document(event["message"])
        assert (document["DBServerName"], document["MilliSecondBehindSource"]) == ("inv", 42)
    assert "sending batches left on disk by the previous run" in second_logs
    for logs in (first_logs, second_logs):
        assert DUMMY_KEY_ID not in logs and DUMMY_SECRET not in logs


def _events(moto: MotoServer) -> list[dict[str, Any]]:
    try:
        return read_events(moto, GROUP, "collector")
    except Exception:  # the group does not exist until the first delivery
        return []
