from __future__ import annotations

import gzip

from aiohttp import web
from opentelemetry.sdk.metrics.export import MetricsData
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import CONTENT_TYPE_LATEST as OPENMETRICS_TYPE

from collector.component import ComponentError, Exporter, Host
from collector.executors import OwnedExecutor
from collector.httpserver import start_site
from exporters.prometheus.accumulator import Accumulator
from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.families import build_families, render
from exporters.prometheus.translator import Translator


class PrometheusExporter(Exporter):
    """Keeps the last value of every series and serves it at `http://<endpoint>/metrics` for scrapers.

    `export` only updates memory, so it needs no retry and no queue in front of it.
    """

    config: PrometheusConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.translator = Translator(self.config)
        self.accumulator = Accumulator(self.config.metric_expiration, self._dropped, self.translator)
        self._reasons_logged: set[str] = set()
        self.runner: web.AppRunner | None = None
        self.port = 0
        # Rendering a large registry is CPU work per scrape: on this exporter's own thread, one scrape at a time.
        self._renderer = OwnedExecutor(f"render-{self.id}")

    def _dropped(self, reason: str, points: int, detail: str = "") -> None:
        self.settings.telemetry.dropped_points.labels(component=self.id, reason=reason).inc(points)
        if reason not in self._reasons_logged:  # once per reason, not once per export or scrape
            self._reasons_logged.add(reason)
            extra = {"reason": reason, **({"detail": detail} if detail else {})}
            self.logger.warning("dropping points Prometheus cannot expose", extra=extra)

    def _unwritable(self, family: Metric, exc: Exception) -> None:
        """A family the writer failed on (a bug, not bad input): left out of this scrape, counted per scrape."""
        self._dropped("unwritable_family", len(family.samples), f"{family.name}: {exc}")

    def render(self, openmetrics: bool) -> bytes:
        """The scrape's body (blocking: runs on a worker thread)."""
        families = build_families(
            self.accumulator.snapshot(),
            self.translator.target_info,
            openmetrics=openmetrics,
            send_timestamps=self.config.send_timestamps,
        )
        return render(families, openmetrics=openmetrics, on_error=self._unwritable)

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
        openmetrics = self.config.enable_open_metrics and "application/openmetrics-text" in accept
        body = await self._renderer.submit(self.render, openmetrics)
        content_type = OPENMETRICS_TYPE if openmetrics else CONTENT_TYPE_PLAIN_0_0_4
        headers = {name: value.get_secret_value() for name, value in self.config.response_headers.items()}
        headers["Content-Type"] = content_type
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body = await self._renderer.submit(gzip.compress, body)
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=body, headers=headers)

    async def shutdown(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        self._renderer.shutdown()
