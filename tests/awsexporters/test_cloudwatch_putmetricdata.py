"""awscloudwatch (PutMetricData) against a real moto server, values read back with GetMetricData."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collector import testing
from collector.exporterhelper import QueueConfig, QueuedSender, RetryConfig, SendingConfig
from exporters.awscloudwatch import factory
from exporters.awscloudwatch.datums import MAX_DATUMS_PER_REQUEST, MAX_REQUEST_BYTES, encoded_size, plan_requests
from tests.awsexporters.conftest import REGION, MotoServer

pytestmark = pytest.mark.integration


def cw_config(moto: MotoServer, **overrides: Any) -> dict[str, Any]:
    return {"namespace": f"Test{uuid.uuid4().hex[:8]}", "region": REGION, "endpoint": moto.endpoint, **overrides}


def read_back(moto: MotoServer, namespace: str, name: str, dimensions: dict[str, str], stat: str) -> list[float]:
    now = datetime.now(UTC)
    response = moto.client("cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    },
                    "Period": 3600,
                    "Stat": stat,
                },
            }
        ],
        StartTime=now - timedelta(hours=2),
        EndTime=now + timedelta(minutes=5),
    )
    return response["MetricDataResults"][0]["Values"]


async def test_reference_sample_read_back(moto: MotoServer) -> None:
    config = cw_config(moto, namespace="MSK_Connect", dimensions=[{"attribute": "server", "name": "DBServerName"}])
    exporter = testing.create(factory, config)
    await exporter.start(testing.NopHost())
    point = testing.gauge(
        "MilliSecondBehindSource", 1500, attributes={"server": "inventory", "plugin": "mysql"}, unit="ms"
    )
    await exporter.export(exporter.prepare(testing.metrics_data(point)))
    assert read_back(moto, "MSK_Connect", "MilliSecondBehindSource", {"DBServerName": "inventory"}, "Maximum") == [1500]
    metrics = moto.client("cloudwatch").list_metrics(Namespace="MSK_Connect")["Metrics"]
    assert [m["Dimensions"] for m in metrics] == [[{"Name": "DBServerName", "Value": "inventory"}]]


async def test_deltas_histograms_and_limits(moto: MotoServer) -> None:
    config = cw_config(moto)
    exporter = testing.create(factory, config)
    await exporter.start(testing.NopHost())
    seen: list[dict[str, Any]] = []
    exporter.client.meta.events.register(
        "provide-client-params.cloudwatch.PutMetricData", lambda params, **_: seen.append(params)
    )
    await exporter.export(
        exporter.prepare(testing.metrics_data(testing.sum_metric("events", 100, attributes={"server": "a"})))
    )
    await exporter.export(
        exporter.prepare(testing.metrics_data(testing.sum_metric("events", 130, attributes={"server": "a"})))
    )
    gauges = [testing.gauge(f"g{i:04d}", i, attributes={"server": "a"}) for i in range(2500)]
    bad = [
        testing.gauge("nan", math.nan, attributes={"server": "a"}),
        testing.gauge("inf", math.inf, attributes={"server": "a"}),
    ]
    await exporter.export(
        exporter.prepare(
            testing.metrics_data(
                *gauges,
                *bad,
                testing.histogram(
                    "latency",
                    testing.histogram_point([1, 0, 3, 2], [10.0, 20.0, 50.0], 200.0, min=0.5, max=900.0),
                    temporality=testing.DELTA,
                    unit="ms",
                ),
            )
        )
    )
    ns = config["namespace"]
    assert read_back(moto, ns, "events", {"server": "a"}, "Sum") == [30]  # the delta only
    assert read_back(moto, ns, "g2499", {"server": "a"}, "Maximum") == [2499]
    assert read_back(moto, ns, "latency", {}, "SampleCount") == [6]
    assert testing.dropped_points(exporter, "non_finite") == 2
    assert len(seen) == 1 + 3  # the first counter point only primed the tracker; 2,501 data -> 3 requests
    assert all(len(p["MetricData"]) <= MAX_DATUMS_PER_REQUEST for p in seen)
    assert sum(len(p["MetricData"]) for p in seen) == 1 + 2501


def test_request_planning_keeps_payloads_under_1mb() -> None:
    datum = {
        "MetricName": "m" * 200,
        "Dimensions": [{"Name": f"d{i}", "Value": "v" * 1000} for i in range(30)],
        "Timestamp": datetime.now(UTC),
        "Unit": "Count",
        "StorageResolution": 60,
        "Value": 1.0,
    }
    requests = plan_requests([datum] * 100, "ns")
    assert len(requests) >= 4  # ~31 kB each: about 30 per request
    for request in requests:
        assert sum(encoded_size(d) for d in request) <= MAX_REQUEST_BYTES
    assert sum(len(r) for r in requests) == 100


def test_dimension_rules_accept_strings_and_renames() -> None:
    from pydantic import ValidationError

    from exporters.awscloudwatch import AwsCloudWatchConfig

    config = AwsCloudWatchConfig.model_validate(
        {"namespace": "n", "dimensions": ["server", {"attribute": "db", "name": "DB"}]}
    )
    assert [r.dimension for r in config.dimensions or []] == ["server", "DB"]
    with pytest.raises(ValidationError, match="unique"):
        AwsCloudWatchConfig.model_validate({"namespace": "n", "dimensions": ["a", {"attribute": "b", "name": "a"}]})
    with pytest.raises(ValidationError, match="reserved"):
        AwsCloudWatchConfig.model_validate({"namespace": "AWS/EC2"})


async def test_timestamps_are_the_points_own(moto: MotoServer) -> None:
    config = cw_config(moto)
    exporter = testing.create(factory, config)
    await exporter.start(testing.NopHost())
    earlier = time.time_ns() - 30 * 60 * 10**9
    await exporter.export(testing.metrics_data(testing.gauge("old", 5, time=earlier)))
    stats = moto.client("cloudwatch").get_metric_statistics(
        Namespace=config["namespace"],
        MetricName="old",
        StartTime=datetime.fromtimestamp(earlier / 1e9 - 60, UTC),
        EndTime=datetime.fromtimestamp(earlier / 1e9 + 60, UTC),
        Period=60,
        Statistics=["Maximum"],
    )
    assert [p["Maximum"] for p in stats["Datapoints"]] == [5]


async def test_backend_down_then_up_delivers_everything_once(own_moto: MotoServer) -> None:
    config = cw_config(own_moto)
    exporter = testing.create(factory, config)
    await exporter.start(testing.NopHost())
    sending = SendingConfig(
        retry_on_failure=RetryConfig(initial_interval="100ms", max_interval="300ms", max_elapsed_time="60s"),
        sending_queue=QueueConfig(num_consumers=2),
    )
    sender = QueuedSender(exporter, sending, exporter.settings.telemetry)
    await sender.start(testing.NopHost())
    for i in range(4):
        await sender.consume(testing.metrics_data(testing.gauge("lag", 10 + i, attributes={"server": f"s{i}"})))
    await asyncio.sleep(1.0)  # several attempts against a closed port
    telemetry = exporter.settings.telemetry
    assert telemetry.value("otelcol_exporter_sent_metric_points", exporter="awscloudwatch") == 0
    own_moto.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while telemetry.value("otelcol_exporter_sent_metric_points", exporter="awscloudwatch") < 4:
        assert loop.time() < deadline, "not delivered after the backend came up"
        await asyncio.sleep(0.1)
    await sender.shutdown(loop.time() + 5)
    for i in range(4):
        assert read_back(own_moto, config["namespace"], "lag", {"server": f"s{i}"}, "SampleCount") == [1]
        assert read_back(own_moto, config["namespace"], "lag", {"server": f"s{i}"}, "Maximum") == [10 + i]
