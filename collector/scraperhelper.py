"""A receiver that scrapes on a schedule (the Collector's scraperhelper): the JMX receiver's skeleton.

It logs one line per state change (scrapes start failing, scrapes recover), never one per scrape.
"""

from __future__ import annotations

import abc
import asyncio

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field

from collector.component import ConfigModel, Host, Receiver
from collector.configtypes import Duration


class ScraperConfig(ConfigModel):
    collection_interval: Duration = Field(60.0, gt=0)
    initial_delay: Duration = Field(1.0, ge=0)
    timeout: Duration = Field(0.0, ge=0, description="Per-scrape limit; 0 means collection_interval.")


class ScraperReceiver(Receiver):
    """Subclasses write `scrape`; failures are counted and logged on change, the schedule keeps going."""

    config: ScraperConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._task: asyncio.Task[None] | None = None
        self.host: Host | None = None
        self.healthy: bool | None = None  # unknown until the first scrape

    @abc.abstractmethod
    async def scrape(self) -> MetricsData: ...

    async def start(self, host: Host) -> None:
        self.host = host
        self._task = asyncio.create_task(self._loop(), name=f"scrape:{self.id}")

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.config.collection_interval
        await asyncio.sleep(self.config.initial_delay)
        next_at = loop.time()
        while True:
            await self.scrape_once()
            next_at += interval
            now = loop.time()
            if next_at < now:  # a scrape overran: skip the missed ticks rather than burst
                next_at = now + interval - (now - next_at) % interval
            await asyncio.sleep(next_at - now)

    async def scrape_once(self) -> None:
        timeout = self.config.timeout or self.config.collection_interval
        try:
            async with asyncio.timeout(timeout):  # not wait_for: see exporterhelper
                data = await self.scrape()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._set_healthy(False, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            return
        self._set_healthy(True)
        if data.resource_metrics:
            try:
                await self.consumer.consume(data)
            except Exception as exc:  # refused downstream: already counted, keep scraping
                self.logger.debug("pipeline refused a scrape: %s", exc)

    def _set_healthy(self, healthy: bool, detail: str = "") -> None:
        if healthy == self.healthy:
            return
        self.healthy = healthy
        if healthy:
            self.logger.info("scrapes succeeding")
        else:
            self.logger.warning("scrape failed: %s", detail)
        if self.host is not None:
            self.host.report_status(self.id, "ok" if healthy else "degraded", detail)

    async def shutdown(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
