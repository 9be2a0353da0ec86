"""otlp (gRPC) against a grpc.aio capture server built on opentelemetry-proto's service stubs: what
arrives, which status codes are retried, RetryInfo, partial success, gzip on the wire, TLS and mTLS."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest
from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import PermanentError
from collector.otlpjson import to_request
from collector.testing import NopHost, create, gauge, metrics_data
from common.otlp import RetryableExportError
from exporters.otlp import factory
from tests.otlpexporters.capture import Reply, Script, partial_success, start_grpc_server
from tests.otlpexporters.conftest import DATA, FAST_RETRY, export_directly, partial_success_logged_and_counted, running
from tests.otlpexporters.victoria import free_port
from tests.support import run_collector, wait_for, write_config


async def _wait(condition, message: str, timeout: float = 15) -> None:
    await asyncio.to_thread(wait_for, condition, timeout, message)


@pytest.fixture
async def grpc_server():
    """start(script, credentials=None, port=0) -> port; every server started is stopped after the test."""
    servers: list[grpc.aio.Server] = []

    async def start(script: Script, credentials: grpc.ServerCredentials | None = None, port: int = 0) -> int:
        server, bound = await start_grpc_server(script, credentials, port)
        servers.append(server)
        return bound

    yield start
    for server in servers:
        await server.stop(None)


def _plain(port: int, **extra) -> dict:
    return {"endpoint": f"127.0.0.1:{port}", "tls": {"insecure": True}, "retry_on_failure": FAST_RETRY, **extra}


async def test_request_and_headers_arrive_as_sent(grpc_server):
    script = Script()
    port = await grpc_server(script)
    raw = _plain(port, headers={"X-Scope-OrgID": "tenant-7", "authorization": "Bearer abc"})
    async with running(factory, raw) as run:
        await run.sender.consume(DATA)
        await _wait(lambda: run.sent() == 2, "batch not delivered")
    (call,) = script.calls
    assert call.request == to_request(DATA)
    assert call.metadata["x-scope-orgid"] == "tenant-7"
    assert call.metadata["authorization"] == "Bearer abc"


async def test_unavailable_is_retried_until_delivered_once(grpc_server):
    script = Script(Reply(grpc_code=grpc.StatusCode.UNAVAILABLE), Reply(grpc_code=grpc.StatusCode.UNAVAILABLE), Reply())
    port = await grpc_server(script)
    async with running(factory, _plain(port)) as run:
        await run.sender.consume(DATA)
        await _wait(lambda: run.sent() == 2, "batch not delivered after UNAVAILABLE")
    assert len(script.calls) == 3
    assert script.delivered == [to_request(DATA)]
    assert run.failed() == 0


async def test_invalid_argument_is_not_retried(grpc_server, caplog):
    script = Script(Reply(grpc_code=grpc.StatusCode.INVALID_ARGUMENT, message="metric name is empty"))
    port = await grpc_server(script)
    caplog.set_level(logging.INFO)
    async with running(factory, _plain(port)) as run:
        await run.sender.consume(DATA)
        await _wait(lambda: run.failed() == 2, "INVALID_ARGUMENT not counted as failed")
        await asyncio.sleep(0.6)  # room for several retries at 50-200ms, had there been any
    assert len(script.calls) == 1
    assert run.sent() == 0
    assert any("INVALID_ARGUMENT: metric name is empty" in r.getMessage() for r in caplog.records)


async def test_server_down_then_up_delivers_once(grpc_server):
    port = free_port()
    script = Script()
    async with running(factory, _plain(port, retry_on_failure={**FAST_RETRY, "max_elapsed_time": "60s"})) as run:
        await run.sender.consume(DATA)
        await asyncio.sleep(0.5)  # UNAVAILABLE (connection refused) while nothing listens
        assert run.sent() == 0
        await grpc_server(script, port=port)
        await _wait(lambda: run.sent() == 2, "batch not delivered once the server came up", timeout=30)
    assert script.delivered == [to_request(DATA)]


async def test_resource_exhausted_is_retryable_only_with_retry_info(grpc_server):
    with_hint = Script(Reply(grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED, message="slow down", retry_after=1.5))
    without = Script(Reply(grpc_code=grpc.StatusCode.RESOURCE_EXHAUSTED, message="quota exceeded"))
    for script, expected in ((with_hint, RetryableExportError), (without, PermanentError)):
        with pytest.raises(expected) as raised:
            await _export_once(_plain(await grpc_server(script)))
        if expected is RetryableExportError:
            assert raised.value.retry_after == 1.5  # what QueuedSender waits at least
        else:
            assert "quota exceeded" in str(raised.value)


async def test_retry_info_delay_is_honoured_by_the_queue(grpc_server):
    script = Script(Reply(grpc_code=grpc.StatusCode.UNAVAILABLE, retry_after=1.0), Reply())
    port = await grpc_server(script)
    async with running(factory, _plain(port)) as run:
        await run.sender.consume(DATA)
        await _wait(lambda: run.sent() == 2, "not delivered after the RetryInfo delay")
    first, second = script.calls
    # the backoff alone would be 50ms; the server asked for 1s
    assert second.at - first.at >= 0.9


async def test_partial_success_is_counted_and_logged_once_per_change(grpc_server, caplog):
    script = Script(partial_success(1, "NaN not accepted"), partial_success(1, "NaN not accepted"), Reply())
    caplog.set_level(logging.INFO)
    exporter = await export_directly(factory, _plain(await grpc_server(script)), DATA, times=3)
    assert partial_success_logged_and_counted(exporter, caplog.records, "NaN not accepted") == 2


class ByteCountingProxy:
    """TCP relay in front of the server: counts the bytes the client sends, i.e. what crosses the wire."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.upstream_bytes = 0

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, count: bool) -> None:
            while data := await src.read(65536):
                if count:
                    self.upstream_bytes += len(data)
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer, True), pipe(up_reader, writer, False), return_exceptions=True)

    async def stop(self) -> None:
        self.server.close()


@pytest.mark.parametrize("compression", ["gzip", "none"])
async def test_compression_on_the_wire(grpc_server, compression):
    script = Script()
    proxy = ByteCountingProxy(await grpc_server(script))
    port = await proxy.start()
    # 500 near-identical points: gzip shrinks them several times over
    data = metrics_data(
        *(gauge("jvm.memory.used", 1024.0, attributes={"pool": "G1 Eden Space", "n": str(i % 5)}) for i in range(500))
    )
    raw_size = to_request(data).ByteSize()
    try:
        await export_directly(factory, _plain(port, compression=compression), data)
    finally:
        await proxy.stop()
    assert script.calls[0].request == to_request(data)
    if compression == "gzip":
        assert proxy.upstream_bytes < raw_size / 3
    else:
        assert proxy.upstream_bytes > raw_size


def _server_tls(certs, require_client: bool = False) -> grpc.ServerCredentials:
    pair = [(certs.read(certs.server_key), certs.read(certs.server_cert))]
    if require_client:
        return grpc.ssl_server_credentials(pair, root_certificates=certs.read(certs.ca), require_client_auth=True)
    return grpc.ssl_server_credentials(pair)


async def _export_once(raw: dict) -> None:
    await export_directly(factory, raw, DATA)


async def test_tls_verifies_the_server_with_ca_file(grpc_server, certs):
    script = Script()
    port = await grpc_server(script, _server_tls(certs))
    await _export_once({"endpoint": f"localhost:{port}", "tls": {"ca_file": str(certs.ca)}, "timeout": "3s"})
    assert len(script.delivered) == 1
    # an https:// endpoint means TLS even if tls.insecure says otherwise, as in the Collector
    https = {"endpoint": f"https://127.0.0.1:{port}", "tls": {"insecure": True, "ca_file": str(certs.ca)}}
    await _export_once({**https, "timeout": "3s"})
    assert len(script.delivered) == 2
    with pytest.raises(RetryableExportError, match="UNAVAILABLE"):  # signed by a CA we do not trust
        await _export_once({"endpoint": f"localhost:{port}", "tls": {"ca_file": str(certs.other_ca)}, "timeout": "3s"})
    with pytest.raises(RetryableExportError, match="UNAVAILABLE"):  # plaintext to a TLS port
        await _export_once({"endpoint": f"localhost:{port}", "tls": {"insecure": True}, "timeout": "3s"})
    assert len(script.delivered) == 2


async def test_mutual_tls_presents_the_client_certificate(grpc_server, certs):
    script = Script()
    port = await grpc_server(script, _server_tls(certs, require_client=True))
    tls = {"ca_file": str(certs.ca), "cert_file": str(certs.client_cert), "key_file": str(certs.client_key)}
    await _export_once({"endpoint": f"localhost:{port}", "tls": tls, "timeout": "3s"})
    assert len(script.delivered) == 1
    with pytest.raises(RetryableExportError):
        await _export_once({"endpoint": f"localhost:{port}", "tls": {"ca_file": str(certs.ca)}, "timeout": "3s"})
    assert len(script.delivered) == 1


async def test_unreadable_tls_file_fails_start_naming_the_key(tmp_path):
    from collector.component import ComponentError

    exporter = create(factory, {"endpoint": "localhost:4317", "tls": {"ca_file": str(tmp_path / "missing.pem")}})
    with pytest.raises(ComponentError, match=r"tls\.ca_file: cannot read .*missing\.pem"):
        await exporter.start(NopHost())


async def test_collector_ships_to_a_grpc_receiver(grpc_server, tmp_path, example_plugin):
    """The real collector process: static receiver -> otlp exporter (gzip, a header from the environment)."""
    script = Script()
    port = await grpc_server(script)
    config = {
        "receivers": {
            "static": {
                "collection_interval": "300ms",
                "metrics": [
                    {"name": "MilliSecondsBehindSource", "unit": "ms", "value": 7, "attributes": {"server": "db"}}
                ],
            }
        },
        "exporters": {
            "otlp": {
                "endpoint": f"127.0.0.1:{port}",
                "tls": {"insecure": True},
                "headers": {"x-api-key": "${env:OTLP_TEST_KEY}"},
            }
        },
        "service": {"pipelines": {"metrics": {"receivers": ["static"], "exporters": ["otlp"]}}},
    }
    with run_collector(
        write_config(tmp_path, config), env={"OTLP_TEST_KEY": "key-abc-123"}, python=example_plugin
    ) as collector:
        for _ in range(150):
            if len(script.calls) >= 2:
                break
            await asyncio.sleep(0.1)
        assert await asyncio.to_thread(collector.stop) == 0
        logs = collector.logs()
    assert len(script.calls) >= 2, logs
    call = script.calls[0]
    assert call.metadata["x-api-key"] == "key-abc-123"
    (metric,) = call.request.resource_metrics[0].scope_metrics[0].metrics
    assert metric.name == "MilliSecondsBehindSource" and metric.unit == "ms"
    assert metric.gauge.data_points[0].as_int == 7
    assert "key-abc-123" not in logs


async def test_batches_with_equal_resources_arrive_whole(grpc_server):
    """Two receivers' batches merged downstream carry the same resource twice; the SDK encoder alone
    would keep only the last one's metrics."""
    first = metrics_data(gauge("from_first_receiver", 1))
    second = metrics_data(gauge("from_second_receiver", 2))
    combined = MetricsData([*first.resource_metrics, *second.resource_metrics])
    script = Script()
    await export_directly(factory, _plain(await grpc_server(script)), combined)
    (resource,) = script.calls[0].request.resource_metrics
    names = sorted(m.name for scope in resource.scope_metrics for m in scope.metrics)
    assert names == ["from_first_receiver", "from_second_receiver"]
