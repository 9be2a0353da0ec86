"""The kafka-connect preset against Kafka-Connect-shaped MBeans (the embedded Debezium engine registers no
kafka.connect MBeans, so a real Connect worker is not part of this test bed); names as Kafka documents."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import Gauge

from tests.jmx import testbed
from tests.jmx.conftest import scrape_points

pytestmark = pytest.mark.integration

CONNECT_BEANS = {
    "kafka.connect:type=connect-worker-metrics": "connector-count,task-count,task-startup-failure-total",
    "kafka.connect:type=connector-metrics,connector=inventory": "status=running,connector-class=x.Y",
    "kafka.connect:type=connector-task-metrics,connector=inventory,task=0": "status=paused,running-ratio",
    "kafka.connect:type=source-task-metrics,connector=inventory,task=0": "source-record-poll-total",
    "kafka.connect:type=task-error-metrics,connector=inventory,task=0": "total-record-errors",
}


async def test_kafka_connect_preset_maps_workers_connectors_and_tasks() -> None:
    with testbed.shaped_target(CONNECT_BEANS) as target:
        data = await scrape_points({"endpoint": target.endpoint, "target_system": "kafka-connect"})

    def states(name: str) -> dict[str, int]:
        return {dict(p.attributes)["state"]: p.value for _, p in data[name]}

    assert states("kafka.connect.connector.status")["running"] == 1
    assert sum(states("kafka.connect.connector.status").values()) == 1
    assert states("kafka.connect.task.status")["paused"] == 1
    task_attributes = dict(data["kafka.connect.task.status"][0][1].attributes)
    assert task_attributes.pop("state") and task_attributes == {"connector": "inventory", "task": "0"}
    metric, poll = data["kafka.connect.source_task.source-record-poll-total"][0]
    assert metric.data.is_monotonic and metric.unit == "{record}"
    assert dict(poll.attributes) == {"connector": "inventory", "task": "0"}
    assert "kafka.connect.worker.connector-count" in data
    assert "kafka.connect.task_error.total-record-errors" in data
    assert isinstance(data["kafka.connect.task.running-ratio"][0][0].data, Gauge)
