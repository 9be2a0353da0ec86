"""awsemf against a real moto server: documents read back with GetLogEvents, request limits, retries."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from collector.exporterhelper import QueueConfig, QueuedSender, RetryConfig, SendingConfig
from collector.testing import NopHost, create, gauge, metrics_data
from exporters.awsemf import factory
from exporters.awsemf.encoder import LogEvent
from exporters.awsemf.logs import (
    EVENT_OVERHEAD_BYTES,
    MAX_REQUEST_BYTES,
    MAX_REQUEST_EVENTS,
    MAX_SPAN_MS,
    plan_requests,
)
from tests.awsexporters.conftest import REGION, MotoServer
from tests.awsexporters.emf_rules import check_document
from tests.support import wait_for

pytestmark = pytest.mark.integration


def emf_config(moto: MotoServer, **overrides: Any) -> dict[str, Any]:
    return {
        "output_destination": "cloudwatch",
        "region": REGION,
        "endpoint": moto.endpoint,
        "log_group_name": f"/metrics/test-{uuid.uuid4().hex[:8]}",
        "log_stream_name": "collector",
        **overrides,
    }


def read_events(moto: MotoServer, group: str, stream: str) -> list[dict[str, Any]]:
    client = moto.client("logs")
    events, token = [], None
    while True:
        kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            kwargs["nextToken"] = token
        page = client.get_log_events(**kwargs)
        events.extend(page["events"])
        if not page["events"] or page["nextForwardToken"] == token:
            return events
        token = page["nextForwardToken"]


def record_requests(exporter: Any) -> list[dict[str, Any]]:
    """PutLogEvents parameters as the exporter sends them (a botocore event hook on its own client)."""
    seen: list[dict[str, Any]] = []
    exporter.sender.client.meta.events.register(
        "provide-client-params.logs.PutLogEvents", lambda params, **_: seen.append(params)
    )
    return seen


async def test_reference_sample_reproduced_and_read_back(moto: MotoServer) -> None:
    config = emf_config(
        moto,
        namespace="MSK_Connect",
        metric_declarations=[
            {"dimensions": [["DBServerName"]], "metric_name_selectors": ["^MilliSecondBehindSource$"]}
        ],
    )
    exporter = create(factory, config)
    await exporter.start(NopHost())
    await exporter.export(
        metrics_data(gauge("MilliSecondBehindSource", 420, attributes={"DBServerName": "inventory"}, unit="ms"))
    )
    [event] = read_events(moto, config["log_group_name"], "collector")
    document = check_document(event["message"])
    assert document["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "MSK_Connect",
            "Dimensions": [["DBServerName"]],
            "Metrics": [{"Name": "MilliSecondBehindSource", "Unit": "Milliseconds"}],
        }
    ]
    assert (document["DBServerName"], document["MilliSecondBehindSource"]) == ("inventory", 420)
    assert event["timestamp"] == document["_aws"]["Timestamp"]


async def test_1500_metrics_read_back_once_within_request_limits(moto: MotoServer) -> None:
    config = emf_config(moto)
    exporter = create(factory, config)
    await exporter.start(NopHost())
    requests = record_requests(exporter)
    now = time.time_ns()
    # 1,500 metrics of one dimension set at 24 timestamps: 15 directives per timestamp, and more than
    # 1 MB of events in all, so the exporter must split its PutLogEvents requests.
    steps = 24
    metrics = [
        gauge(
            f"debezium.streaming.Attribute{i:04d}",
            step * 10_000 + i,
            attributes={"server": "s1"},
            time=now - step * 10**9,
        )
        for step in range(steps)
        for i in range(1500)
    ]
    await exporter.export(metrics_data(*metrics))  # one batch: the split into requests is the exporter's
    events = read_events(moto, config["log_group_name"], "collector")
    documents = [check_document(e["message"]) for e in events]
    directives = [d for doc in documents for d in doc["_aws"]["CloudWatchMetrics"]]
    assert len(directives) >= 15 * steps
    values = sorted(doc[m["Name"]] for doc in documents for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"])
    assert values == sorted(step * 10_000 + i for step in range(steps) for i in range(1500))
    assert sum(len(e["message"]) for e in events) > MAX_REQUEST_BYTES
    assert len(requests) >= 2
    for params in requests:
        stamps = [e["timestamp"] for e in params["logEvents"]]
        assert stamps == sorted(stamps)
        assert len(stamps) <= MAX_REQUEST_EVENTS
        assert sum(len(e["message"].encode()) + EVENT_OVERHEAD_BYTES for e in params["logEvents"]) <= MAX_REQUEST_BYTES
        assert stamps[-1] - stamps[0] < MAX_SPAN_MS


def test_request_planning_respects_every_limit() -> None:
    """Pure planning: the byte, count and 24-hour limits each force a split (moto enforces none)."""
    drops: list[str] = []
    now = int(time.time() * 1000)
    big = "x" * 200_000
    by_bytes = plan_requests([LogEvent(now - i, big, "g", "s") for i in range(12)], lambda r, n: drops.append(r), now)
    assert len(by_bytes) == 3 and all(r.size <= MAX_REQUEST_BYTES for r in by_bytes)
    by_count = plan_requests([LogEvent(now - i, "{}", "g", "s") for i in range(25_000)], lambda r, n: None, now)
    assert [len(r.events) for r in by_count] == [10_000, 10_000, 5_000]
    hour = 3_600_000
    by_span = plan_requests([LogEvent(now - h * hour, "{}", "g", "s") for h in range(30)], lambda r, n: None, now)
    assert len(by_span) == 2 and all(
        r.events[-1]["timestamp"] - r.events[0]["timestamp"] < MAX_SPAN_MS for r in by_span
    )
    too_large = "y" * MAX_REQUEST_BYTES
    ancient = now - 15 * 24 * hour
    kept = plan_requests(
        [LogEvent(now, too_large, "g", "s"), LogEvent(ancient, "{}", "g", "s")], lambda r, n: drops.append(r), now
    )
    assert kept == [] and drops == ["event_too_large", "timestamp_out_of_range"]
    two_targets = plan_requests(
        [LogEvent(now, "{}", "g1", "s"), LogEvent(now, "{}", "g2", "s")], lambda r, n: None, now
    )
    assert {(r.group, r.stream) for r in two_targets} == {("g1", "s"), ("g2", "s")}


def sending(**queue: Any) -> SendingConfig:
    return SendingConfig(
        retry_on_failure=RetryConfig(initial_interval="100ms", max_interval="300ms", max_elapsed_time="60s"),
        sending_queue=QueueConfig(num_consumers=2, **queue),
    )


async def test_backend_down_then_up_delivers_everything_once(own_moto: MotoServer) -> None:
    config = emf_config(own_moto)
    exporter = create(factory, config)
    await exporter.start(NopHost())
    sender = QueuedSender(exporter, sending(), exporter.settings.telemetry)
    await sender.start(NopHost())
    for i in range(5):
        await sender.consume(
            metrics_data(gauge("lag", i, attributes={"server": "s1"}, time=time.time_ns() - i * 1_000_000))
        )
    await asyncio.sleep(1.0)  # several attempts against a closed port
    telemetry = exporter.settings.telemetry
    assert telemetry.value("otelcol_exporter_sent_metric_points", exporter="awsemf") == 0
    own_moto.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while telemetry.value("otelcol_exporter_sent_metric_points", exporter="awsemf") < 5:
        assert loop.time() < deadline, "not delivered after the backend came up"
        await asyncio.sleep(0.1)
    await sender.shutdown(loop.time() + 5)
    events = read_events(own_moto, config["log_group_name"], "collector")
    assert sorted(check_document(e["message"])["lag"] for e in events) == [0, 1, 2, 3, 4]
    assert telemetry.value("otelcol_exporter_send_failed_metric_points", exporter="awsemf") == 0


async def test_validation_error_is_permanent_and_not_retried(moto: MotoServer) -> None:
    # A placeholder filled from a resource attribute makes a log group name CloudWatch refuses (> 512).
    config = emf_config(moto, log_group_name="/metrics/{ClusterName}")
    exporter = create(factory, config)
    await exporter.start(NopHost())
    calls: list[str] = []
    exporter.sender.client.meta.events.register("before-call.logs.*", lambda model, **_: calls.append(model.name))
    sender = QueuedSender(exporter, sending(), exporter.settings.telemetry)
    await sender.start(NopHost())
    await sender.consume(metrics_data(gauge("lag", 1), resource={"ClusterName": "c" * 600}))
    telemetry = exporter.settings.telemetry
    wait_until = asyncio.get_running_loop().time() + 10
    while telemetry.value("otelcol_exporter_send_failed_metric_points", exporter="awsemf") < 1:
        assert asyncio.get_running_loop().time() < wait_until
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # long enough for several retries, had there been any
    assert calls == ["PutLogEvents", "CreateLogGroup"]
    await sender.shutdown(asyncio.get_running_loop().time() + 1)


async def test_existing_group_and_stream_are_reused(moto: MotoServer) -> None:
    config = emf_config(moto)
    client = moto.client("logs")
    client.create_log_group(logGroupName=config["log_group_name"])
    client.create_log_stream(logGroupName=config["log_group_name"], logStreamName="collector")
    exporter = create(factory, config)
    await exporter.start(NopHost())
    await exporter.export(metrics_data(gauge("lag", 7)))
    wait_for(lambda: read_events(moto, config["log_group_name"], "collector"), 5, "event read back")
