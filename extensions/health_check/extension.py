from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from pydantic import Field

from collector.component import ComponentError, ConfigModel, Extension, Factory, Host, Kind, Stability
from collector.confignet import Endpoint
from collector.httpserver import start_site

UNHEALTHY_STATUSES = {"fatal"}


class HealthCheckConfig(ConfigModel):
    endpoint: Endpoint = "localhost:13133"
    path: str = Field("/", pattern=r"^/")


class HealthCheckExtension(Extension):
    """Answers from the event loop: if the loop is stuck, the health check times out, as it should."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.host: Host | None = None
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: Host) -> None:
        self.host = host
        app = web.Application()
        app.router.add_get(self.config.path, self.handle)
        try:
            self.runner, self.port = await start_site(app, self.config.endpoint, None)
        except OSError as exc:
            raise ComponentError(f"cannot listen on {self.config.endpoint}: {exc.strerror or exc}") from exc
        self.logger.info("health check listening", extra={"endpoint": self.config.endpoint, "port": self.port})

    async def handle(self, request: web.Request) -> web.Response:
        report = self.report()
        return web.json_response(report, status=200 if report["healthy"] else 503)

    def report(self) -> dict[str, Any]:
        assert self.host is not None
        state = self.host.state
        components = {
            component_id: {"status": status.status, **({"detail": status.detail} if status.detail else {})}
            for component_id, status in self.host.component_statuses().items()
        }
        fatal = [cid for cid, c in components.items() if c["status"] in UNHEALTHY_STATUSES]
        telemetry = self.host.telemetry
        queues = {
            sample.labels["exporter"]: {
                "size": int(sample.value),
                "capacity": int(telemetry.value("otelcol_exporter_queue_capacity", exporter=sample.labels["exporter"])),
            }
            for family in telemetry.registry.collect()
            if family.name == "otelcol_exporter_queue_size"
            for sample in family.samples
        }
        return {
            "healthy": state == "running" and not fatal,
            "state": state,
            "uptime_s": round(time.monotonic() - telemetry.started_at, 3),
            "components": components,
            "queues": queues,
        }

    async def shutdown(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


factory = Factory(
    type="health_check",
    kind=Kind.EXTENSION,
    config_model=HealthCheckConfig,
    create=HealthCheckExtension,
    stability=Stability.BETA,
    description="HTTP health endpoint: 200 while running, 503 while starting, stopping or failed.",
)
