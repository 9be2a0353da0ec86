from __future__ import annotations

import asyncio
import gzip

from aiohttp import web
from opentelemetry.sdk.metrics.export import MetricsData
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS_TYPE
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from collector.component import ComponentError, Exporter, Factory, Host, Kind, Stability
from collector.exporterhelper import QueueConfig, SendingConfig
from collector.httpserver import start_site
from exporters.prometheus.accumulator import Accumulator
from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.families import SeriesCollector


class PrometheusExporter(Exporter):
    """Keeps the last value of every series and serves it at `http://<endpoint>/metrics` for scrapers.

    `export` only updates memory, so it needs no retry and no queue in front of it.
    """

    config: PrometheusConfig
    default_sending = SendingConfig(sending_queue=QueueConfig(enabled=False))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.accumulator = Accumulator(self.config.metric_expiration, self._dropped)
        self._conflicts: set[str] = set()
        self.text_registry = self._registry(created=False)
        self.openmetrics_registry = self._registry(created=True)
        self.runner: web.AppRunner | None = None
        self.port = 0

    def _registry(self, created: bool) -> CollectorRegistry:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(SeriesCollector(self.config, self.accumulator, self._conflict, created))
        return registry

    def _dropped(self, reason: str, points: int) -> None:
        self.settings.telemetry.dropped_points.labels(component=self.id, reason=reason).inc(points)

    def _conflict(self, message: str) -> None:
        if message not in self._conflicts:  # once per conflicting name, not once per scrape
            self._conflicts.add(message)
            self.logger.warning("metric type conflict: %s", message)

    async def start(self, host: Host) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._scrape)
        try:
            self.runner, self.port = await start_site(app, self.config.endpoint, self.config.tls)
        except OSError as exc:
            raise ComponentError(f"cannot listen on {self.config.endpoint}: {exc}") from exc
        self.logger.info("serving /metrics", extra={"endpoint": self.config.endpoint, "port": self.port})

    async def export(self, data: MetricsData) -> None:
        self.accumulator.accumulate(data)

    async def _scrape(self, request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        if self.config.enable_open_metrics and "application/openmetrics-text" in accept:
            body = await asyncio.to_thread(generate_openmetrics, self.openmetrics_registry)
            content_type = OPENMETRICS_TYPE
        else:
            body = await asyncio.to_thread(generate_latest, self.text_registry)
            content_type = CONTENT_TYPE_PLAIN_0_0_4
        headers = {"Content-Type": content_type}
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body = await asyncio.to_thread(gzip.compress, body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)

    async def shutdown(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


factory = Factory(
    type="prometheus",
    kind=Kind.EXPORTER,
    config_model=PrometheusConfig,
    create=PrometheusExporter,
    stability=Stability.BETA,
    description="Serves the latest value of every series for Prometheus to scrape (text or OpenMetrics).",
)
