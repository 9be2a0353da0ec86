"""Capture servers for protocol behaviour a real backend won't show on demand (status codes, RetryInfo,
partial success): a grpc.aio OTLP receiver on opentelemetry-proto's service stubs and a plain HTTP one."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc.error_details_pb2 import RetryInfo
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)


@dataclass
class Reply:
    """What the capture server answers to one call: OK with a response, or an error status."""

    response: ExportMetricsServiceResponse = field(default_factory=ExportMetricsServiceResponse)
    grpc_code: grpc.StatusCode | None = None
    http_status: int = 200
    message: str = ""
    retry_after: float | None = None  # gRPC: RetryInfo trailer; HTTP: Retry-After header


def partial_success(rejected: int, message: str) -> Reply:
    response = ExportMetricsServiceResponse()
    response.partial_success.rejected_data_points = rejected
    response.partial_success.error_message = message
    return Reply(response=response)


@dataclass
class Received:
    request: ExportMetricsServiceRequest
    metadata: dict[str, str]
    body_bytes: int = 0
    at: float = field(default_factory=time.monotonic)


class Script:
    """Replies in order, the last one repeated; records every call."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [Reply()]
        self.calls: list[Received] = []
        self.lock = threading.Lock()

    def next(self, received: Received) -> Reply:
        with self.lock:
            self.calls.append(received)
            return self.replies[min(len(self.calls) - 1, len(self.replies) - 1)]

    @property
    def delivered(self) -> list[ExportMetricsServiceRequest]:
        ok = []
        for index, call in enumerate(self.calls):
            reply = self.replies[min(index, len(self.replies) - 1)]
            if reply.grpc_code is None and reply.http_status == 200:
                ok.append(call.request)
        return ok


class _Servicer(metrics_service_pb2_grpc.MetricsServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    async def Export(self, request, context):
        metadata = {key: value for key, value in context.invocation_metadata() if isinstance(value, str)}
        reply = self.script.next(Received(request, metadata))
        if reply.grpc_code is not None:
            if reply.retry_after is not None:
                info = RetryInfo(
                    retry_delay=Duration(seconds=int(reply.retry_after), nanos=int(reply.retry_after % 1 * 1e9))
                )
                context.set_trailing_metadata((("google.rpc.retryinfo-bin", info.SerializeToString()),))
            await context.abort(reply.grpc_code, reply.message)
        return reply.response


async def start_grpc_server(
    script: Script, credentials: grpc.ServerCredentials | None = None, port: int = 0
) -> tuple[grpc.aio.Server, int]:
    server = grpc.aio.server()
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(_Servicer(script), server)
    address = f"127.0.0.1:{port}"
    port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    await server.start()
    return server, port


class _Handler(BaseHTTPRequestHandler):
    script: Script

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply = self.script.next(Received(ExportMetricsServiceRequest.FromString(raw), headers, len(body)))
        payload = reply.response.SerializeToString() if reply.http_status == 200 else reply.message.encode()
        self.send_response(reply.http_status)
        self.send_header("Content-Type", "application/x-protobuf" if reply.http_status == 200 else "text/plain")
        if reply.retry_after is not None:
            self.send_header("Retry-After", str(int(reply.retry_after)))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


class HTTPCaptureServer:
    def __init__(self, script: Script, wrap_socket: Callable | None = None) -> None:
        handler = type("Handler", (_Handler,), {"script": script})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if wrap_socket:
            self.server.socket = wrap_socket(self.server.socket)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HTTPCaptureServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
