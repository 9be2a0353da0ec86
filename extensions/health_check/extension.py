from __future__ import annotations

import time
from collections import deque
from typing import Any

from aiohttp import web

from collector.component import ComponentError, Extension, Host
from collector.httpserver import start_site

UNHEALTHY_STATUSES = {"fatal"}
FAILED = "otelcol_exporter_send_failed_metric_points"


class FailureWindow:
    """Export failures within the last `interval` seconds, from the running total of failed points."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.samples: deque[tuple[float, float]] = deque()

    def recent(self, total: float, now: float) -> float:
        self.samples.append((now, total))
        while len(self.samples) > 1 and self.samples[1][0] <= now - self.interval:
            self.samples.popleft()
        return total - self.samples[0][1]


class HealthCheckExtension(Extension):
    """Answers from the event loop: if the loop is stuck, the health check times out, as it should."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.failures = FailureWindow(self.config.check_collector_pipeline.interval)
        self.host: Host | None = None
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, host: Host) -> None:
        self.host = host
        self.failures.recent(host.telemetry.total(FAILED), time.monotonic())  # the window starts now
        app = web.Application()
        app.router.add_get(self.config.path, self.handle)
        try:
            self.runner, self.port = await start_site(app, self.config.endpoint, self.config.tls)
        except OSError as exc:
            raise ComponentError(f"cannot listen on {self.config.endpoint}: {exc.strerror or exc}") from exc
        self.logger.info("health check listening", extra={"endpoint": self.config.endpoint, "port": self.port})

    async def handle(self, request: web.Request) -> web.Response:
        report = self.report()
        status = 200 if report["healthy"] else 503
        body = self.config.response_body
        if body is not None:
            return web.Response(text=body.healthy if status == 200 else body.unhealthy, status=status)
        return web.json_response(report, status=status)

    def report(self) -> dict[str, Any]:
        assert self.host is not None
        state = self.host.state
        components = {
            component_id: {"status": status.status, **({"detail": status.detail} if status.detail else {})}
            for component_id, status in self.host.component_statuses().items()
        }
        fatal = [cid for cid, c in components.items() if c["status"] in UNHEALTHY_STATUSES]
        telemetry = self.host.telemetry
        pipeline_check = self.config.check_collector_pipeline
        failing = False
        if pipeline_check.enabled:
            recent = self.failures.recent(telemetry.total(FAILED), time.monotonic())
            failing = recent > pipeline_check.exporter_failure_threshold
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
            "healthy": state == "running" and not fatal and not failing,
            **({"exporters_failing": True} if failing else {}),
            "state": state,
            "uptime_s": round(time.monotonic() - telemetry.started_at, 3),
            "components": components,
            "queues": queues,
        }

    async def shutdown(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
