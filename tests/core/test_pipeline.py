"""The pipeline runtime: fan-in, fan-out isolation, shared components, retry, shutdown flush."""

import asyncio
import json
import signal

import pytest

from collector.config import validate
from collector.exporterhelper import QueueFullError
from collector.pipeline import Service
from collector.testing import gauge, metrics_data
from tests.core.fakes import PushReceiver, RecordExporter, registry
from tests.support import pipeline_config, read_points, run_collector, wait_for, write_config

FAST_RETRY = {"initial_interval": "10ms", "max_interval": "20ms", "max_elapsed_time": "0"}


def service(receivers, exporters, pipelines, processors=None, grace="2s") -> Service:
    raw = {
        "receivers": receivers,
        "exporters": exporters,
        "processors": processors or {},
        "service": {
            "pipelines": pipelines,
            "shutdown_grace_period": grace,
            "telemetry": {"metrics": {"address": "127.0.0.1:0"}},
        },
    }
    return Service(validate(raw, registry()))


async def settle(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def test_fan_in_and_processor_order():
    svc = service(
        {"push/a": {}, "push/b": {}},
        {"record": {}},
        {
            "metrics": {
                "receivers": ["push/a", "push/b"],
                "processors": ["suffix/1", "suffix/2"],
                "exporters": ["record"],
            }
        },
        processors={"suffix/1": {"suffix": "_one"}, "suffix/2": {"suffix": "_two"}},
    )
    await svc.start()
    a, b = PushReceiver.instances
    await a.push(metrics_data(gauge("x", 1)))
    await b.push(metrics_data(gauge("y", 1)))
    exporter = RecordExporter.instances["record"]
    await settle(lambda: len(exporter.received) == 2)
    await svc.shutdown()
    assert sorted(exporter.names()) == ["x_one_two", "y_one_two"]
    assert svc.telemetry.value("otelcol_receiver_accepted_metric_points", receiver="push/a") == 1
    assert svc.telemetry.value("otelcol_exporter_sent_metric_points", exporter="record") == 2


@pytest.mark.parametrize("mode", ["raise", "hang", "permanent"])
async def test_fan_out_isolates_a_failing_or_hanging_exporter(mode):
    bad = {"mode": mode, "timeout": "50ms", "retry_on_failure": FAST_RETRY, "sending_queue": {"queue_size": 5}}
    svc = service(
        {"push": {}},
        {"record/good": {}, "record/bad": bad},
        {"metrics": {"receivers": ["push"], "exporters": ["record/bad", "record/good"]}},
        grace="200ms",
    )
    await svc.start()
    receiver = PushReceiver.instances[0]
    refusals = 0
    for i in range(50):
        try:
            await receiver.push(metrics_data(gauge(f"m{i}", 1)))
        except QueueFullError:
            refusals += 1  # the bad exporter's queue is full: the receiver is told, the good one still got it
    good = RecordExporter.instances["record/good"]
    await settle(lambda: len(good.received) == 50)
    await svc.shutdown()
    assert good.names() == [f"m{i}" for i in range(50)]
    t = svc.telemetry
    assert t.value("otelcol_exporter_sent_metric_points", exporter="record/good") == 50
    assert t.value("otelcol_exporter_sent_metric_points", exporter="record/bad") == 0
    lost = t.value("otelcol_exporter_send_failed_metric_points", exporter="record/bad") + t.value(
        "otelcol_exporter_enqueue_failed_metric_points", exporter="record/bad"
    )
    assert lost == 50, "every point the bad exporter could not deliver is counted, none vanish"
    enqueue_failed = t.value("otelcol_exporter_enqueue_failed_metric_points", exporter="record/bad")
    assert refusals == enqueue_failed == t.value("otelcol_receiver_refused_metric_points", receiver="push")
    if mode != "permanent":  # stuck workers fill the 5-batch queue; permanent failures drain it at once
        assert refusals > 0


async def test_shared_receiver_and_exporter_are_single_instances():
    svc = service(
        {"push": {}},
        {"record": {}},
        {
            "metrics/a": {"receivers": ["push"], "processors": ["suffix/a"], "exporters": ["record"]},
            "metrics/b": {"receivers": ["push"], "processors": ["suffix/b"], "exporters": ["record"]},
        },
        processors={"suffix/a": {"suffix": "_a"}, "suffix/b": {"suffix": "_b"}},
    )
    await svc.start()
    assert len(PushReceiver.instances) == 1
    assert list(RecordExporter.instances) == ["record"]
    await PushReceiver.instances[0].push(metrics_data(gauge("x", 1)))
    exporter = RecordExporter.instances["record"]
    await settle(lambda: len(exporter.received) == 2)
    await svc.shutdown()
    assert sorted(exporter.names()) == ["x_a", "x_b"]


async def test_retryable_errors_are_retried_until_delivered():
    flaky = {"mode": "flaky", "failures": 3, "retry_on_failure": FAST_RETRY}
    svc = service({"push": {}}, {"record": flaky}, {"metrics": {"receivers": ["push"], "exporters": ["record"]}})
    await svc.start()
    await PushReceiver.instances[0].push(metrics_data(gauge("x", 1)))
    exporter = RecordExporter.instances["record"]
    await settle(lambda: exporter.received)
    await svc.shutdown()
    assert exporter.calls == 4
    assert exporter.names() == ["x"]


async def test_permanent_errors_are_not_retried():
    svc = service(
        {"push": {}},
        {"record": {"mode": "permanent", "retry_on_failure": FAST_RETRY}},
        {"metrics": {"receivers": ["push"], "exporters": ["record"]}},
    )
    await svc.start()
    await PushReceiver.instances[0].push(metrics_data(gauge("x", 1)))
    await settle(lambda: svc.telemetry.value("otelcol_exporter_send_failed_metric_points", exporter="record") == 1)
    await asyncio.sleep(0.1)
    await svc.shutdown()
    assert RecordExporter.instances["record"].calls == 1


async def test_shutdown_drains_the_queue_within_the_grace_period():
    slow = {"mode": "slow", "sending_queue": {"num_consumers": 1, "queue_size": 100}}
    svc = service(
        {"push": {}}, {"record": slow}, {"metrics": {"receivers": ["push"], "exporters": ["record"]}}, grace="10s"
    )
    await svc.start()
    for i in range(20):
        await PushReceiver.instances[0].push(metrics_data(gauge(f"m{i}", 1)))
    await svc.shutdown()  # 20 x 50 ms of sends still queued when shutdown begins
    assert RecordExporter.instances["record"].names() == [f"m{i}" for i in range(20)]


def test_sigterm_loses_nothing_accepted(example_plugin, tmp_path):
    """A real collector process: every point accepted before SIGTERM reaches the file."""
    out = tmp_path / "out.jsonl"
    metrics = [{"name": f"m{i}", "value": i} for i in range(20)]
    receivers = {"static": {"collection_interval": "20ms", "initial_delay": "0s", "metrics": metrics}}
    config = write_config(tmp_path, pipeline_config(receivers, {"file": {"path": str(out)}}))
    with run_collector(config, "--log-format", "json", python=example_plugin) as collector:
        wait_for(lambda: len(read_points(out)) >= 200, 30, "ten scrapes written")
        assert collector.stop(signal.SIGTERM) == 0
    summary = [
        json.loads(line)
        for line in collector.logs().splitlines()
        if line.startswith("{") and '"collector stopped"' in line
    ]
    assert summary, collector.logs()
    accepted = summary[0]["accepted_points"]
    assert accepted == summary[0]["sent_points"] == len(read_points(out))
    assert summary[0]["failed_points"] == summary[0]["enqueue_failed_points"] == 0
