"""The `zpages` extension: the Collector's /debug/servicez, /debug/pipelinez and /debug/extensionz, plus
/debug/targetz, a live view of every scrape target and the Debezium connectors it holds.

Read-only (GET and HEAD), loopback by default, every page also as JSON (`?format=json`), served from the
event loop: a page is a pass over in-memory state, bounded by the number of targets and connectors.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from aiohttp import web
from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import (
    ComponentError,
    Extension,
    Host,
    Kind,
    ReceiverOutputObserver,
    ScrapeTarget,
    redacted,
    redacted_config,
)
from collector.httpserver import start_site
from extensions.zpages import render
from extensions.zpages.config import ZPagesConfig
from extensions.zpages.connectors import HISTORY_S, Connector, ConnectorTracker, Source

HEADERS = {
    "Content-Security-Policy": render.CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def collector_version() -> str:
    try:
        return version("jmx-otel-collector")
    except PackageNotFoundError:
        return "unknown"


class ZPagesExtension(Extension, ReceiverOutputObserver):
    """Pages about the running collector; sees every receiver's output to keep the connectors' view."""

    config: ZPagesConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.host: Host | None = None
        self.runner: web.AppRunner | None = None
        self.port: int | None = None
        self.connectors = ConnectorTracker()
        self.started_at = time.time()

    # ReceiverOutputObserver ----------------------------------------------------------------------------
    def observe_receiver_output(self, receiver_id: str, data: MetricsData) -> None:
        self.connectors.observe(receiver_id, data)

    # Lifecycle -----------------------------------------------------------------------------------------
    async def start(self, host: Host) -> None:
        self.host = host
        self.started_at = time.time() - (time.monotonic() - host.telemetry.started_at)
        app = web.Application(middlewares=[security_headers])
        for name, build, draw in (
            ("servicez", self.servicez, render.servicez),
            ("pipelinez", self.pipelinez, render.pipelinez),
            ("extensionz", self.extensionz, render.extensionz),
            ("targetz", self.targetz, render.targetz),
        ):
            app.router.add_get(f"/debug/{name}", self._handler(name, build, draw))  # GET and HEAD only
        try:
            self.runner, self.port = await start_site(app, self.config.endpoint, self.config.tls)
        except OSError as exc:
            raise ComponentError(f"cannot listen on {self.config.endpoint}: {exc.strerror or exc}") from exc
        self.logger.info("zpages listening", extra={"endpoint": self.config.endpoint, "port": self.port})

    async def shutdown(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    def _handler(
        self, name: str, build: Callable[[], dict[str, Any]], draw: Callable[[Mapping[str, Any]], str]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        title = dict(render.PAGES)[name]

        async def handle(request: web.Request) -> web.Response:
            fmt = request.query.get("format", "html")
            if fmt not in ("html", "json"):
                raise web.HTTPBadRequest(text="format must be html or json\n")
            data = build()
            if fmt == "json":
                return web.json_response(data)
            text = render.page(name, title, self.config.refresh_interval, data["generated_at"], draw(data))
            return web.Response(text=text, content_type="text/html", charset="utf-8")

        return handle

    # Page data: the JSON, and what the HTML is drawn from ----------------------------------------------
    def _host(self) -> Host:
        if self.host is None:
            raise ComponentError("zpages is not started")
        return self.host

    def _header(self) -> dict[str, Any]:
        return {"generated_at": time.time(), "refresh_s": self.config.refresh_interval}

    def servicez(self) -> dict[str, Any]:
        host = self._host()
        described = host.describe()
        config: dict[str, Any] = {}
        for component in described.components:
            config.setdefault(component.kind.section, {})[component.id] = redacted_config(component.config)
        config["service"] = {
            "extensions": list(described.extensions),
            "pipelines": {
                p.id: {"receivers": list(p.receivers), "processors": list(p.processors), "exporters": list(p.exporters)}
                for p in described.pipelines
            },
        }
        return {
            **self._header(),
            "version": collector_version(),
            "python": sys.version.split()[0],
            "state": host.state,
            "started_at": self.started_at,
            "uptime_s": round(time.monotonic() - host.telemetry.started_at, 3),
            "pipelines": [p.id for p in described.pipelines],
            "extensions": list(described.extensions),
            "config": config,
        }

    def _status(self, component_id: str) -> dict[str, str]:
        status = self._host().component_statuses().get(component_id)
        if status is None:
            return {"status": "starting"}
        return {"status": status.status, **({"detail": status.detail} if status.detail else {})}

    def pipelinez(self) -> dict[str, Any]:
        telemetry = self._host().telemetry

        def exporter(component_id: str) -> dict[str, Any]:
            size = telemetry.value("otelcol_exporter_queue_size", exporter=component_id)
            capacity = telemetry.value("otelcol_exporter_queue_capacity", exporter=component_id)
            return {
                "id": component_id,
                **self._status(component_id),
                "queue_size": int(size),
                "queue_capacity": int(capacity),
                "queue_fill": round(size / capacity, 4) if capacity else None,
            }

        pipelines = [
            {
                "id": p.id,
                "receivers": [{"id": r, **self._status(r)} for r in p.receivers],
                "processors": [{"id": r, **self._status(r)} for r in p.processors],
                "exporters": [exporter(e) for e in p.exporters],
            }
            for p in self._host().describe().pipelines
        ]
        return {**self._header(), "pipelines": pipelines}

    def extensionz(self) -> dict[str, Any]:
        described = self._host().describe()
        by_id = {c.id: c for c in described.components if c.kind is Kind.EXTENSION}
        extensions = [
            {
                "id": ext_id,
                "stability": str(by_id[ext_id].stability),
                **self._status(ext_id),
                "config": redacted_config(by_id[ext_id].config),
            }
            for ext_id in described.extensions
        ]
        return {**self._header(), "extensions": extensions}

    def targetz(self) -> dict[str, Any]:
        return targetz_data(self._host().scrape_targets.all(), self.connectors, self._header())


def targetz_data(targets: list[ScrapeTarget], tracker: ConnectorTracker, header: dict[str, Any]) -> dict[str, Any]:
    """Every scrape target with the connectors its points showed; sources that pushed connector points
    without being a scrape target (an OTLP receiver, a dial-out gateway) get a row of their own."""
    now = header["generated_at"]
    tracker.expire(now)
    sources: dict[Source, list[Connector]] = dict(tracker.sources())
    rows = []
    for target in sorted(targets, key=lambda t: (t.up is not False, t.receiver, t.name)):
        connectors = sources.pop((target.receiver, target.resource), [])
        rows.append(
            {
                "receiver": target.receiver,
                "name": target.name,
                "resource": redacted(dict(target.resource)),
                "scraped": True,
                "up": target.up,
                "since": target.since,
                "detail": target.detail,
                "last_scrape": target.last_scrape,
                "last_duration_ms": None if target.last_duration_s is None else round(target.last_duration_s * 1000, 1),
                "points": target.points,
                "errors": dict(target.errors),
                "connectors": [connector_data(c, now) for c in connectors],
            }
        )
    for (receiver, resource), connectors in sorted(sources.items()):
        rows.append(
            {
                "receiver": receiver,
                "name": receiver,
                "resource": redacted(dict(resource)),
                "scraped": False,
                "up": None,
                "since": None,
                "detail": "",
                "last_scrape": max(c.last_seen for c in connectors),
                "last_duration_ms": None,
                "points": None,
                "errors": {},
                "connectors": [connector_data(c, now) for c in connectors],
            }
        )
    return {**header, "history_s": HISTORY_S, "targets": rows}


def connector_data(c: Connector, now: float) -> dict[str, Any]:
    return {
        "server": c.server,
        "attributes": redacted(c.attributes),
        "lag_ms": c.lag_ms,
        "lag_history": c.lag_history(now),
        "lag_sparkline": c.lag_sparkline(now),
        "events_per_s": None if c.events_per_s is None else round(c.events_per_s, 3),
        "connected": c.connected,
        "snapshot": {"state": c.snapshot_state, "tables_total": c.tables_total, "tables_remaining": c.tables_remaining},
        "schema_history": c.schema_history,
        "last_seen": c.last_seen,
    }


@web.middleware
async def security_headers(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every answer, errors included, carries the strict policy: nothing loads but the page itself."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(HEADERS)
        raise
    response.headers.update(HEADERS)
    return response
