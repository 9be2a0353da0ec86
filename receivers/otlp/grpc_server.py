"""OTLP/gRPC: the MetricsService/Export method on a grpc.aio server.

The request is taken as raw bytes and parsed here, so a malformed message gets INVALID_ARGUMENT (grpcio's
own deserializer would answer INTERNAL). gzip request compression is handled by grpc itself. Connections
are capped (`max_connections`) and must finish the HTTP/2 handshake within 10s; decoding runs on the
receiver's threads after its memory was reserved with the pipeline's memory gate.
"""

from __future__ import annotations

import grpc
from google.protobuf.duration_pb2 import Duration
from google.rpc import code_pb2, error_details_pb2, status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse

from collector.confignet import split_endpoint
from collector.httpserver import DEFAULT_READ_HEADER_TIMEOUT, connection_budget
from receivers.otlp.codec import MalformedRequest, RequestTooLarge, parse_protobuf
from receivers.otlp.config import GRPCConfig
from receivers.otlp.handler import DECODE_EXPANSION, ExportHandler, Refused

SERVICE = "opentelemetry.proto.collector.metrics.v1.MetricsService"
MIB = 1024 * 1024
HANDSHAKE_TIMEOUT_S = DEFAULT_READ_HEADER_TIMEOUT


def _retry_details(message: str, retry_after: int) -> tuple[tuple[str, bytes], ...]:
    """google.rpc.RetryInfo in the status details, which OTLP clients read to pace their retries."""
    info = error_details_pb2.RetryInfo(retry_delay=Duration(seconds=retry_after))
    status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message=message)
    status.details.add().Pack(info)
    return (("grpc-status-details-bin", status.SerializeToString()),)


class GRPCServer:
    def __init__(self, config: GRPCConfig, handler: ExportHandler) -> None:
        self.config = config
        self.handler = handler
        self.server: grpc.aio.Server | None = None
        self.port = 0

    async def _export(self, body: bytes, context: grpc.aio.ServicerContext) -> ExportMetricsServiceResponse:
        # grpc has read the message already (at most max_recv_msg_size_mib); reserve before decoding it.
        reservation = None
        try:
            reservation = self.handler.reserve(len(body) * (1 + DECODE_EXPANSION))
            result = await self.handler.decode(lambda: parse_protobuf(body))
            outcome = await self.handler.export(result)
        except MalformedRequest as exc:
            self.handler.bad_request("malformed", str(exc), "grpc")
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except RequestTooLarge as exc:
            self.handler.bad_request("too_large", str(exc), "grpc")
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
        except Refused as exc:
            if exc.retryable:
                await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc), _retry_details(str(exc), exc.retry_after))
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        finally:
            if reservation is not None:
                reservation.release()
        return outcome.response()

    async def start(self) -> None:
        options = [
            ("grpc.max_receive_message_length", self.config.max_recv_msg_size_mib * MIB),
            # Connections past the cap are refused by grpc before they cost a descriptor for long; a client
            # that opens one and never completes the HTTP/2 handshake is dropped after the timeout.
            ("grpc.max_allowed_incoming_connections", self.config.max_connections or connection_budget()),
            ("grpc.server_handshake_timeout_ms", int(HANDSHAKE_TIMEOUT_S * 1000)),
        ]
        if self.config.max_concurrent_streams:
            options.append(("grpc.max_concurrent_streams", self.config.max_concurrent_streams))
        options += self.config.keepalive_options()
        server = grpc.aio.server(options=options)
        method: grpc.RpcMethodHandler[bytes, ExportMetricsServiceResponse] = grpc.unary_unary_rpc_method_handler(
            self._export, response_serializer=ExportMetricsServiceResponse.SerializeToString
        )
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE, {"Export": method})])
        host, port = split_endpoint(self.config.endpoint)
        address = f"[{host}]:{port}" if ":" in host else f"{host or '0.0.0.0'}:{port}"
        try:
            if self.config.tls:
                self.port = server.add_secure_port(address, self.config.tls.grpc_credentials())
            else:
                self.port = server.add_insecure_port(address)
        except RuntimeError as exc:  # grpcio raises RuntimeError when it cannot bind
            raise OSError(f"cannot listen on {self.config.endpoint}: {exc}") from None
        await server.start()
        self.server = server

    async def stop(self, grace: float = 2.0) -> None:
        if self.server is not None:
            await self.server.stop(grace)
            self.server = None
