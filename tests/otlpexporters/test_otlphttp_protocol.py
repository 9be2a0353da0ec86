"""otlphttp protocol behaviour a real backend won't show on demand, against a plain HTTP capture server:
status classes, Retry-After, partial success, gzip, headers, TLS and mTLS."""

from __future__ import annotations

import asyncio
import logging
import ssl

import pytest

from collector.component import PermanentError
from collector.otlpjson import to_request
from common.otlp import RetryableExportError
from exporters.otlphttp import factory
from tests.otlpexporters.capture import HTTPCaptureServer, Reply, Script, partial_success
from tests.otlpexporters.conftest import DATA, FAST_RETRY, export_directly, partial_success_logged_and_counted, running
from tests.support import wait_for


async def _export_once(raw: dict) -> None:
    await export_directly(factory, raw, DATA)


@pytest.mark.parametrize("compression", ["gzip", "none"])
async def test_body_headers_and_path(compression):
    script = Script()
    with HTTPCaptureServer(script) as server:
        raw = {
            "endpoint": f"http://127.0.0.1:{server.port}/otlp/",
            "compression": compression,
            "headers": {"Authorization": "Bearer abc", "X-Scope-OrgID": "tenant-7"},
        }
        await _export_once(raw)
    (call,) = script.calls
    assert call.request == to_request(DATA)
    assert call.metadata["authorization"] == "Bearer abc"
    assert call.metadata["x-scope-orgid"] == "tenant-7"
    assert call.metadata["content-type"] == "application/x-protobuf"
    assert call.metadata.get("content-encoding") == ("gzip" if compression == "gzip" else None)
    if compression == "none":
        assert call.body_bytes == to_request(DATA).ByteSize()


async def test_metrics_endpoint_is_used_as_is():
    script = Script()
    with HTTPCaptureServer(script) as server:
        exporter = await export_directly(
            factory, {"metrics_endpoint": f"http://127.0.0.1:{server.port}/custom/ingest"}, DATA
        )
    assert exporter.url.endswith("/custom/ingest")
    assert len(script.calls) == 1


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_transient_statuses_are_retryable_with_retry_after(status):
    script = Script(Reply(http_status=status, message="busy", retry_after=7))
    with HTTPCaptureServer(script) as server, pytest.raises(RetryableExportError, match=f"HTTP {status}") as raised:
        await _export_once({"endpoint": f"http://127.0.0.1:{server.port}"})
    assert "busy" in str(raised.value)
    assert raised.value.retry_after == 7


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 500])
async def test_other_statuses_are_permanent(status):
    script = Script(Reply(http_status=status, message="no such thing"))
    with HTTPCaptureServer(script) as server, pytest.raises(PermanentError, match=f"HTTP {status}: no such thing"):
        await _export_once({"endpoint": f"http://127.0.0.1:{server.port}"})


async def test_503_then_ok_through_the_queue_waits_for_retry_after():
    script = Script(Reply(http_status=503, retry_after=1), Reply())
    with HTTPCaptureServer(script) as server:
        async with running(
            factory, {"endpoint": f"http://127.0.0.1:{server.port}", "retry_on_failure": FAST_RETRY}
        ) as run:
            await run.sender.consume(DATA)
            await asyncio.to_thread(wait_for, lambda: run.sent() == 2, 15, "not delivered after 503")
    first, second = script.calls
    assert second.at - first.at >= 0.9  # the server's Retry-After, not the 50ms backoff
    assert script.delivered == [to_request(DATA)]


async def test_connection_refused_is_retryable_and_hides_url_credentials():
    from tests.otlpexporters.victoria import free_port

    port = free_port()
    with pytest.raises(RetryableExportError, match="Connection refused") as raised:
        await _export_once({"endpoint": f"http://user:pa55word@127.0.0.1:{port}"})
    assert f"http://127.0.0.1:{port}/v1/metrics" in str(raised.value)
    assert "pa55word" not in str(raised.value)


async def test_partial_success_is_counted_and_logged_once_per_change(caplog):
    script = Script(partial_success(2, "out of order samples"), partial_success(2, "out of order samples"), Reply())
    caplog.set_level(logging.INFO)
    with HTTPCaptureServer(script) as server:
        exporter = await export_directly(factory, {"endpoint": f"http://127.0.0.1:{server.port}"}, DATA, times=3)
    assert partial_success_logged_and_counted(exporter, caplog.records, "out of order samples") == 4


def _tls_wrapper(certs, require_client: bool = False):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    if require_client:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs.ca)
    return lambda sock: context.wrap_socket(sock, server_side=True)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # insecure_skip_verify case
async def test_https_verifies_the_server(certs):
    script = Script()
    with HTTPCaptureServer(script, _tls_wrapper(certs)) as server:
        url = f"https://localhost:{server.port}"
        await _export_once({"endpoint": url, "tls": {"ca_file": str(certs.ca)}, "timeout": "3s"})
        with pytest.raises(RetryableExportError, match="SSLError"):  # system roots don't know our CA
            await _export_once({"endpoint": url, "timeout": "3s"})
        with pytest.raises(RetryableExportError, match="SSLError"):
            await _export_once({"endpoint": url, "tls": {"ca_file": str(certs.other_ca)}, "timeout": "3s"})
        await _export_once({"endpoint": url, "tls": {"insecure_skip_verify": True}, "timeout": "3s"})
    assert len(script.delivered) == 2


async def test_https_mutual_tls(certs):
    script = Script()
    with HTTPCaptureServer(script, _tls_wrapper(certs, require_client=True)) as server:
        url = f"https://localhost:{server.port}"
        tls = {"ca_file": str(certs.ca), "cert_file": str(certs.client_cert), "key_file": str(certs.client_key)}
        await _export_once({"endpoint": url, "tls": tls, "timeout": "3s"})
        with pytest.raises(RetryableExportError):
            await _export_once({"endpoint": url, "tls": {"ca_file": str(certs.ca)}, "timeout": "3s"})
    assert len(script.delivered) == 1


async def test_http_proxy_from_the_environment_is_used(monkeypatch):
    script = Script()
    with HTTPCaptureServer(script) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        await _export_once({"endpoint": "http://otlp-backend.invalid:4318", "timeout": "3s"})
    (call,) = script.calls  # the proxy got the request for a host that does not even resolve
    assert call.request == to_request(DATA)
    assert call.metadata["host"] == "otlp-backend.invalid:4318"
