"""Each class of bad input gets the protocol's answer, and nothing half-parsed reaches the pipeline."""

from __future__ import annotations

import gzip
import json

import grpc
import pytest
import requests
from aiohttp import ClientSession
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from collector.component import Kind, PermanentError
from collector.metrics import count_points
from collector.otlpjson import to_request
from collector.pipeline import ObservedReceiverOutput
from collector.telemetry import Telemetry
from collector.testing import NopHost, RefusingConsumer, create_settings, every_kind
from receivers.otlp import OTLPReceiverConfig, factory
from tests.otlpreceiver.conftest import free_port
from tests.support import read_points

METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
PB = {"Content-Type": "application/x-protobuf"}


def status_of(response: requests.Response) -> status_pb2.Status:
    status = status_pb2.Status()
    status.ParseFromString(response.content)
    return status


# --- HTTP, against the real collector ---------------------------------------------------------------


def test_malformed_protobuf_is_400_with_a_status_body(otlp_collector):
    response = requests.post(otlp_collector.http_url, data=b"\x0a\xff\xff\xff", headers=PB, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/x-protobuf"
    assert status_of(response).code == 3 and "invalid protobuf" in status_of(response).message


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", json.dumps({"resourceMetrics": [{"scopeMetrics": "oops"}]}).encode(), b"\xff\xfe"],
    ids=["syntax", "not-an-object", "wrong-shape", "not-utf8"],
)
def test_malformed_json_is_400_with_a_json_status(otlp_collector, body):
    response = requests.post(
        otlp_collector.http_url, data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["code"] == 3


def test_corrupt_gzip_and_unknown_encoding_are_400(otlp_collector):
    body = to_request(every_kind()).SerializeToString()
    corrupt = requests.post(
        otlp_collector.http_url, data=gzip.compress(body)[:-8], headers={**PB, "Content-Encoding": "gzip"}, timeout=10
    )
    assert corrupt.status_code == 400
    unknown = requests.post(otlp_collector.http_url, data=body, headers={**PB, "Content-Encoding": "br"}, timeout=10)
    assert unknown.status_code == 400 and "Content-Encoding" in status_of(unknown).message


def test_too_large_is_413_on_the_wire_and_after_inflating(otlp_collector):
    # The fixture's limit is 1 MB.
    huge = requests.post(otlp_collector.http_url, data=b"\0" * 1_100_000, headers=PB, timeout=10)
    assert huge.status_code == 413 and status_of(huge).code == 8
    bomb = gzip.compress(b"\0" * 5_000_000)
    assert len(bomb) < 1_000_000
    inflated = requests.post(otlp_collector.http_url, data=bomb, headers={**PB, "Content-Encoding": "gzip"}, timeout=10)
    assert inflated.status_code == 413


def test_wrong_content_type_is_415_wrong_method_405_wrong_path_404(otlp_collector):
    body = to_request(every_kind()).SerializeToString()
    assert requests.post(otlp_collector.http_url, data=body, headers={"Content-Type": "text/plain"}).status_code == 415
    assert requests.post(otlp_collector.http_url, data=body).status_code == 415
    assert requests.get(otlp_collector.http_url, timeout=10).status_code == 405
    other = otlp_collector.http_url.replace("/v1/metrics", "/v1/traces")
    assert requests.post(other, data=body, headers=PB, timeout=10).status_code == 404


def test_bad_requests_never_reach_the_pipeline_and_good_ones_still_do(otlp_collector):
    requests.post(otlp_collector.http_url, data=b"\x0a\xff", headers=PB, timeout=10)
    requests.post(otlp_collector.http_url, data=b"{", headers={"Content-Type": "application/json"}, timeout=10)
    good = requests.post(otlp_collector.http_url, data=to_request(every_kind()).SerializeToString(), headers=PB)
    assert good.status_code == 200
    response = ExportMetricsServiceResponse()
    response.ParseFromString(good.content)
    assert not response.HasField("partial_success")
    from tests.support import wait_for

    wait_for(lambda: read_points(otlp_collector.out), 20, "the good batch written")
    assert len(read_points(otlp_collector.out)) == count_points(every_kind())
    assert otlp_collector.process.logs().count("refusing requests: malformed") == 1  # two refused, one line


def test_summary_points_get_a_partial_success(otlp_collector):
    request = to_request(every_kind())
    summary = request.resource_metrics[0].scope_metrics[0].metrics.add(name="legacy")
    summary.summary.data_points.add(count=1, sum=1.0)
    response = requests.post(otlp_collector.http_url, data=request.SerializeToString(), headers=PB, timeout=10)
    assert response.status_code == 200
    answer = ExportMetricsServiceResponse()
    answer.ParseFromString(response.content)
    assert answer.partial_success.rejected_data_points == 1
    assert "Summary" in answer.partial_success.error_message


# --- gRPC, against the real collector ---------------------------------------------------------------


def raw_export(port: int, body: bytes) -> grpc.RpcError:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(METHOD)  # no serializers: raw bytes on the wire
        with pytest.raises(grpc.RpcError) as caught:
            call(body, timeout=10)
    return caught.value


def test_grpc_malformed_is_invalid_argument(otlp_collector):
    error = raw_export(otlp_collector.grpc_port, b"\x0a\xff\xff\xff")
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_grpc_too_large_is_resource_exhausted(otlp_collector):
    request = ExportMetricsServiceRequest()
    request.resource_metrics.add().resource.attributes.add(key="big").value.string_value = "x" * (5 * 1024 * 1024)
    error = raw_export(otlp_collector.grpc_port, request.SerializeToString())
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


# --- A refusing pipeline, in process (no built-in component refuses yet: a memory guard will) -------


async def start_receiver(consumer, telemetry: Telemetry):
    config = OTLPReceiverConfig.model_validate(
        {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{free_port()}"}, "http": {"endpoint": "127.0.0.1:0"}}}
    )
    settings = create_settings(Kind.RECEIVER, "otlp", telemetry)
    receiver = factory.create(settings, config, ObservedReceiverOutput("otlp", consumer, telemetry))
    await receiver.start(NopHost())
    return receiver


async def test_refusing_pipeline_is_503_with_retry_after_and_counted():
    telemetry = Telemetry()
    consumer = RefusingConsumer(RuntimeError("memory limit reached"))
    receiver = await start_receiver(consumer, telemetry)
    try:
        body = to_request(every_kind()).SerializeToString()
        async with ClientSession() as session:
            url = f"http://127.0.0.1:{receiver.http.port}/v1/metrics"
            async with session.post(url, data=body, headers=PB) as response:
                assert response.status == 503
                assert response.headers["Retry-After"] == "1"
                status = status_pb2.Status()
                status.ParseFromString(await response.read())
                assert status.code == 14 and "memory limit reached" in status.message
        assert telemetry.value("otelcol_receiver_refused_metric_points", receiver="otlp") == count_points(every_kind())
        assert telemetry.value("otelcol_receiver_accepted_metric_points", receiver="otlp") == 0
    finally:
        await receiver.shutdown()


async def test_refusing_pipeline_is_unavailable_with_retry_info_over_grpc():
    telemetry = Telemetry()
    receiver = await start_receiver(RefusingConsumer(RuntimeError("memory limit reached")), telemetry)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{receiver.grpc.port}") as channel:
            call = channel.unary_unary(METHOD)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call(to_request(every_kind()).SerializeToString(), timeout=10)
        error = caught.value
        assert error.code() is grpc.StatusCode.UNAVAILABLE
        details = dict(error.trailing_metadata())["grpc-status-details-bin"]
        status = status_pb2.Status.FromString(details)
        info = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(info) and info.retry_delay.seconds == 1
        assert telemetry.value("otelcol_receiver_refused_metric_points", receiver="otlp") == count_points(every_kind())
    finally:
        await receiver.shutdown()


async def test_permanent_refusal_is_400_and_invalid_argument_not_retried():
    telemetry = Telemetry()
    receiver = await start_receiver(RefusingConsumer(PermanentError("bad data")), telemetry)
    try:
        body = to_request(every_kind()).SerializeToString()
        async with ClientSession() as session:
            url = f"http://127.0.0.1:{receiver.http.port}/v1/metrics"
            async with session.post(url, data=body, headers=PB) as response:
                assert response.status == 400 and "Retry-After" not in response.headers
        async with grpc.aio.insecure_channel(f"127.0.0.1:{receiver.grpc.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await channel.unary_unary(METHOD)(body, timeout=10)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    finally:
        await receiver.shutdown()
