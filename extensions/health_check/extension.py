from __future__ import annotations

import json
import time
from typing import Any

from pydantic import Field, field_validator

from collector.component import ComponentError, ConfigModel, Extension, Factory, Host, Kind, Stability
from collector.httpserver import ThreadedHTTPServer, parse_endpoint

UNHEALTHY_STATUSES = {"fatal"}


class HealthCheckConfig(ConfigModel):
    endpoint: str = "localhost:13133"
    path: str = Field("/", pattern=r"^/")

    @field_validator("endpoint")
    @classmethod
    def _valid_endpoint(cls, endpoint: str) -> str:
        parse_endpoint(endpoint)
        return endpoint


class HealthCheckExtension(Extension):
    """Answers from a thread with a snapshot of what the service publishes; never touches the loop."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.host: Host | None = None
        self.server: ThreadedHTTPServer | None = None

    async def start(self, host: Host) -> None:
        self.host = host
        self.server = ThreadedHTTPServer(self.config.endpoint, self.respond, "health-check-http")
        try:
            self.server.start()
        except OSError as exc:
            raise ComponentError(f"cannot listen on {self.config.endpoint}: {exc.strerror or exc}") from exc
        self.logger.info("health check listening", extra={"endpoint": self.config.endpoint, "port": self.server.port})

    def respond(self, path: str, headers: dict[str, str]) -> tuple[int, str, bytes]:
        if path.split("?")[0] != self.config.path:
            return 404, "text/plain", b"not found\n"
        report = self.report()
        status = 200 if report["healthy"] else 503
        return status, "application/json", json.dumps(report, indent=1).encode()

    def report(self) -> dict[str, Any]:
        assert self.host is not None
        state = getattr(self.host, "state", "running")
        components = {
            component_id: {"status": status.status, **({"detail": status.detail} if status.detail else {})}
            for component_id, status in self.host.component_statuses().items()  # type: ignore[attr-defined]
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
        if self.server is not None:
            self.server.stop()
            self.server = None


factory = Factory(
    type="health_check",
    kind=Kind.EXTENSION,
    config_model=HealthCheckConfig,
    create=HealthCheckExtension,
    stability=Stability.BETA,
    description="HTTP health endpoint: 200 while running, 503 while starting, stopping or failed.",
)
