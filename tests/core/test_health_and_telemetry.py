"""The health_check extension and the collector's own metrics endpoint, over real HTTP."""

import asyncio
import json
import socket
import urllib.error
import urllib.request

from collector.config import validate
from collector.pipeline import Service
from collector.testing import gauge, metrics_data
from tests.core.fakes import PushReceiver, RecordExporter, registry
from tests.support import free_port, pipeline_config, read_points, run_collector, wait_for, write_config


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def test_health_is_503_while_starting_200_running_503_stopping():
    raw = {
        "extensions": {"health_check": {"endpoint": "127.0.0.1:0", "path": "/health"}},
        "receivers": {"push": {"block_start": True}},
        "exporters": {"record": {}},
        "service": {
            "extensions": ["health_check"],
            "telemetry": {"metrics": {"address": "127.0.0.1:0"}},
            "pipelines": {"metrics": {"receivers": ["push"], "exporters": ["record"]}},
        },
    }
    svc = Service(validate(raw, registry()))
    PushReceiver.release = asyncio.Event()
    starting = asyncio.create_task(svc.start())
    while "health_check" not in svc.graph.extensions or svc.graph.extensions["health_check"].port is None:
        await asyncio.sleep(0.01)
    url = f"http://127.0.0.1:{svc.graph.extensions['health_check'].port}/health"

    status, body = await asyncio.to_thread(get, url)
    assert status == 503 and json.loads(body)["state"] == "starting"

    PushReceiver.release.set()
    await starting
    await PushReceiver.instances[0].push(metrics_data(gauge("x", 1)))
    exporter = RecordExporter.instances["record"]
    while not exporter.received:
        await asyncio.sleep(0.01)
    status, body = await asyncio.to_thread(get, url)
    report = json.loads(body)
    assert status == 200 and report["healthy"] and report["state"] == "running"
    assert report["components"]["record"]["status"] == "ok"
    assert report["queues"]["record"]["capacity"] == 1000

    assert (await asyncio.to_thread(get, url.replace("/health", "/other")))[0] == 404

    metrics_url = f"http://127.0.0.1:{svc.metrics_port}/metrics"
    status, text = await asyncio.to_thread(get, metrics_url)
    assert status == 200
    assert 'otelcol_receiver_accepted_metric_points_total{receiver="push"} 1.0' in text
    assert 'otelcol_exporter_sent_metric_points_total{exporter="record"} 1.0' in text
    assert "otelcol_process_memory_rss" in text and "otelcol_process_uptime" in text

    svc.report_status("record", "fatal", "disk gone")
    status, body = await asyncio.to_thread(get, url)
    assert status == 503 and json.loads(body)["components"]["record"] == {"status": "fatal", "detail": "disk gone"}
    await svc.shutdown()


def test_real_collector_serves_health_and_metrics(example_plugin, tmp_path):
    health_port, metrics_port = free_port(), free_port()
    out = tmp_path / "out.jsonl"
    receivers = {
        "static": {"collection_interval": "100ms", "initial_delay": "0s", "metrics": [{"name": "lag", "value": 1}]}
    }
    config = pipeline_config(
        receivers,
        {"file": {"path": str(out)}},
        extensions={"health_check": {"endpoint": f"127.0.0.1:{health_port}"}},
        telemetry={"metrics": {"address": f"127.0.0.1:{metrics_port}"}},
    )
    config = write_config(tmp_path, config)
    with run_collector(config, free_telemetry_port=False, python=example_plugin) as collector:
        wait_for(lambda: len(read_points(out)) >= 2, 20, "two scrapes exported")
        status, body = get(f"http://127.0.0.1:{health_port}/")
        assert status == 200, body
        assert json.loads(body)["components"]["static"]["status"] == "ok"
        _, text = get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert 'otelcol_receiver_accepted_metric_points_total{receiver="static"}' in text
        assert collector.stop() == 0


def test_metrics_address_in_use_fails_start_with_a_clear_message(example_plugin, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        config = write_config(
            tmp_path,
            {
                "receivers": {"static": {"metrics": [{"name": "x"}]}},
                "exporters": {"debug": {}},
                "service": {
                    "telemetry": {"metrics": {"address": f"127.0.0.1:{port}"}},
                    "pipelines": {"metrics": {"receivers": ["static"], "exporters": ["debug"]}},
                },
            },
        )
        with run_collector(config, free_telemetry_port=False, python=example_plugin) as collector:
            assert collector.process.wait(30) == 1
        assert f"service.telemetry.metrics.address: cannot listen on 127.0.0.1:{port}" in collector.logs()
