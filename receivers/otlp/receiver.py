from __future__ import annotations

import ssl

from collector.component import ComponentError, Host, Receiver
from receivers.otlp.config import OTLPReceiverConfig
from receivers.otlp.grpc_server import GRPCServer
from receivers.otlp.handler import ExportHandler
from receivers.otlp.http_server import HTTPServer


class OTLPReceiver(Receiver):
    """Accepts OTLP metrics over gRPC and/or HTTP; both transports share one `ExportHandler`."""

    config: OTLPReceiverConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        handler = ExportHandler(self.id, self.consumer, self.settings.telemetry, self.logger)
        self.handler = handler
        protocols = self.config.protocols
        self.grpc = GRPCServer(protocols.grpc, handler) if protocols.grpc else None
        self.http = HTTPServer(protocols.http, handler) if protocols.http else None

    async def start(self, host: Host) -> None:
        for name, server in (("grpc", self.grpc), ("http", self.http)):
            if server is None:
                continue
            try:
                await server.start()
            except (OSError, ssl.SSLError) as exc:
                await self.shutdown()
                raise ComponentError(f"protocols.{name}: cannot listen on {server.config.endpoint}: {exc}") from exc
            self.logger.info(
                "listening", extra={"protocol": name, "endpoint": server.config.endpoint, "port": server.port}
            )

    async def shutdown(self) -> None:
        if self.http:
            await self.http.stop()
        if self.grpc:
            await self.grpc.stop()
        self.handler.shutdown()
