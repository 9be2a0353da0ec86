"""otlphttp against a real victoria-metrics: values, attributes and cumulative counters read back with
PromQL; an outage rides on the sending queue's retries; a 4xx is not retried."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from opentelemetry.sdk.metrics.export import AggregationTemporality, Histogram, HistogramDataPoint, Metric

from collector.testing import gauge, metrics_data
from exporters.otlphttp import factory
from tests.otlpexporters.conftest import FAST_RETRY, running
from tests.otlpexporters.victoria import VictoriaMetrics, free_port
from tests.support import run_collector, wait_for, write_config

pytestmark = pytest.mark.integration


def test_collector_gauge_and_counter_read_back_by_promql(victoria, tmp_path, example_plugin):
    """The real collector: static receiver -> otlphttp (token header from the environment) -> PromQL."""
    config = {
        "receivers": {
            "static": {
                "collection_interval": "500ms",
                "resource_attributes": {"service.name": "connect-worker-1"},
                "metrics": [
                    {
                        "name": "MilliSecondsBehindSource",
                        "unit": "ms",
                        "value": 1234.5,
                        "attributes": {"server": "inventory", "context": "streaming"},
                    },
                    {
                        "name": "TotalNumberOfEventsSeen",
                        "type": "sum",
                        "value": 100,
                        "increment": 10,
                        "attributes": {"server": "inventory", "context": "streaming"},
                    },
                ],
            }
        },
        "exporters": {
            "otlphttp": {
                "endpoint": victoria.otlp_endpoint,
                "headers": {"Authorization": "Bearer ${env:OTLP_TEST_TOKEN}"},
                "retry_on_failure": FAST_RETRY,
            }
        },
        "service": {"pipelines": {"metrics": {"receivers": ["static"], "exporters": ["otlphttp"]}}},
    }
    secret = "s3cr3t-token-value"
    with run_collector(
        write_config(tmp_path, config), env={"OTLP_TEST_TOKEN": secret}, python=example_plugin
    ) as collector:
        lag = victoria.wait_query('MilliSecondsBehindSource{server="inventory"}')
        wait_for(
            lambda: (
                len(victoria.export('{__name__="TotalNumberOfEventsSeen"}')[0]["values"]) >= 3
                if victoria.export('{__name__="TotalNumberOfEventsSeen"}')
                else False
            ),
            timeout=30,
            message="counter samples never arrived",
            interval=0.5,
        )
        collector.stop()
        logs = collector.logs()

    assert len(lag) == 1
    labels, value = lag[0]["metric"], float(lag[0]["value"][1])
    assert value == 1234.5
    assert labels["server"] == "inventory" and labels["context"] == "streaming"
    assert labels["service.name"] == "connect-worker-1"

    # victoria-metrics drops delta sums silently, so samples here prove the counter went out cumulative;
    # the values are the receiver's running total: 100, 110, 120 ... in time order, none repeated.
    (events,) = victoria.export('{__name__="TotalNumberOfEventsSeen"}')
    assert events["metric"]["server"] == "inventory"
    values = [v for _, v in sorted(zip(events["timestamps"], events["values"], strict=True))]
    assert values[0] == 100
    assert values == [100 + 10 * i for i in range(len(values))]
    assert secret not in logs


async def test_backend_down_then_up_delivers_every_batch_once(tmp_path):
    port = free_port()
    vm = VictoriaMetrics(tmp_path / "vm-data", port=port)
    base = time.time_ns() - 120 * 10**9  # distinct past timestamps, one per batch
    raw = {
        "endpoint": vm.otlp_endpoint,
        "retry_on_failure": {**FAST_RETRY, "max_elapsed_time": "120s"},
        "sending_queue": {"num_consumers": 3},
    }
    async with running(factory, raw) as run:
        for seq in range(6):
            await run.sender.consume(
                metrics_data(gauge("outage_probe", seq, attributes={"run": "a"}, time=base + seq * 10**9))
            )
        await asyncio.sleep(1.0)  # several failed attempts (connection refused) while nothing listens
        assert run.sent() == 0
        await asyncio.to_thread(vm.start)
        try:
            await asyncio.to_thread(
                wait_for, lambda: run.sent() == 6, 60, "queue never drained after the backend came up"
            )
            await asyncio.to_thread(vm.wait_query, "count_over_time(outage_probe[10m]) >= 6")
            await asyncio.sleep(1.0)  # a duplicate delivery, had there been one, lands by now too
            samples = await asyncio.to_thread(vm.export, '{__name__="outage_probe"}')
        finally:
            await asyncio.to_thread(vm.stop)
    assert run.failed() == 0
    (series,) = samples
    assert sorted(series["values"]) == [0, 1, 2, 3, 4, 5]  # each exactly once: duplicates would show here
    assert len(set(series["timestamps"])) == 6


async def test_4xx_is_logged_and_not_retried(victoria, caplog):
    """The classic port mistake: the base URL without /opentelemetry, so /v1/metrics is a path
    victoria-metrics refuses with 400; the exporter must give up at once, not hammer it."""
    raw = {"endpoint": victoria.url, "retry_on_failure": FAST_RETRY}
    caplog.set_level(logging.INFO)
    async with running(factory, raw) as run:
        await run.sender.consume(metrics_data(gauge("never_stored", 1), gauge("never_stored_2", 2)))
        await asyncio.to_thread(wait_for, lambda: run.failed() == 2, 10, "the 400 was not counted as failed")
        await asyncio.sleep(1.0)  # a retry would have happened several times by now (50-200ms backoff)
        refused = await asyncio.to_thread(
            victoria.own_metric, "vm_http_request_errors_total", path="*", reason="unsupported"
        )
    assert refused == 1
    assert run.sent() == 0
    failures = [r for r in caplog.records if "export rejected" in r.getMessage()]
    assert len(failures) == 1
    assert "HTTP 400" in failures[0].getMessage() and "unsupported path" in failures[0].getMessage()
    assert await asyncio.to_thread(victoria.query, "never_stored") == []


async def test_histogram_read_back_as_buckets_sum_and_count(victoria):
    now = time.time_ns()
    point = HistogramDataPoint(
        attributes={"server": "inventory", "shard": 3},
        start_time_unix_nano=now - 60 * 10**9,
        time_unix_nano=now,
        count=6,
        sum=4200.0,
        bucket_counts=[1, 2, 3],
        explicit_bounds=[100.0, 1000.0],
        min=20.0,
        max=2000.0,
    )
    data = metrics_data(Metric("commit_latency", "", "ms", Histogram([point], AggregationTemporality.CUMULATIVE)))
    async with running(factory, {"endpoint": victoria.otlp_endpoint}) as run:
        await run.sender.consume(data)
        await asyncio.to_thread(wait_for, lambda: run.sent() == 1, 10, "histogram not sent")
    count = await asyncio.to_thread(victoria.wait_query, 'commit_latency_count{server="inventory"}')
    total = await asyncio.to_thread(victoria.wait_query, "commit_latency_sum")
    buckets = await asyncio.to_thread(victoria.wait_query, "commit_latency_bucket")
    assert float(count[0]["value"][1]) == 6 and count[0]["metric"]["shard"] == "3"
    assert float(total[0]["value"][1]) == 4200.0
    cumulative = {b["metric"]["le"]: float(b["value"][1]) for b in buckets}
    assert cumulative == {"100": 1, "1000": 3, "+Inf": 6}
