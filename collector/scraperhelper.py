"""A receiver that scrapes on a schedule (the Collector's scraperhelper): the JMX receiver's skeleton.

It logs one line per state change (scrapes start failing, scrapes recover), never one per scrape.
"""

from __future__ import annotations

import abc
import asyncio
import time
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field

from collector.component import ConfigModel, Consumer, CreateSettings, Host, Receiver
from collector.configtypes import Duration
from collector.metrics import count_points

T = TypeVar("T")


class SlotBusy(Exception):
    """The target's previous blocking call has not returned yet: this scrape of it is skipped."""


class ScrapeSlots:
    """A receiver's own bounded threads for its blocking calls (never the loop's default executor, which
    every component would share), with at most one call in flight per target: a call that hangs past its
    scrape's timeout keeps only its own target's slot, and that target's next scrape is refused at once
    instead of parking one more thread. Unlike `collector.executors.OwnedExecutor.run`, a scrape gives up
    waiting at its deadline (a read has no side effect to duplicate; the slot stays taken until the call
    ends)."""

    def __init__(self, workers: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._running: dict[Hashable, Future[Any]] = {}

    async def run(self, key: Hashable, call: Callable[..., T], *args: object) -> T:
        previous = self._running.get(key)
        if previous is not None and not previous.done():
            raise SlotBusy("the previous scrape of this target has not returned yet")
        future = self._pool.submit(call, *args)
        self._running[key] = future
        future.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.wrap_future(future)

    async def call(self, call: Callable[..., T], *args: object) -> T:
        """A blocking call of no particular target (start, stop) on the same threads."""
        return await asyncio.wrap_future(self._pool.submit(call, *args))

    def _forget(self, key: Hashable, done: Future[Any]) -> None:
        if self._running.get(key) is done:
            del self._running[key]

    def shutdown(self) -> None:
        """Queued calls are dropped; running ones finish on their own (their threads are daemonic to asyncio)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


class ScraperConfig(ConfigModel):
    collection_interval: Duration = Field(60.0, gt=0)
    initial_delay: Duration = Field(1.0, ge=0)
    timeout: Duration = Field(0.0, ge=0, description="Per-scrape limit; 0 means collection_interval.")


ScraperConfigT = TypeVar("ScraperConfigT", bound=ScraperConfig)


class ScraperReceiver(Receiver[ScraperConfigT]):
    """Subclasses write `scrape`; failures are counted and logged on change, the schedule keeps going.
    Blocking calls go through `self.slots` (SCRAPE_WORKERS threads of the receiver's own)."""

    SCRAPE_WORKERS = 4

    def __init__(self, settings: CreateSettings, config: ScraperConfigT, consumer: Consumer) -> None:
        super().__init__(settings, config, consumer)
        self._task: asyncio.Task[None] | None = None
        self.host: Host | None = None
        self.scrape_failing: bool | None = None  # unknown until the first scrape
        self.refused: bool = False
        # A subclass whose scrape worked but whose target is down (it still emits an `up` 0) says so here;
        # the health check then shows the receiver `degraded` with this reason.
        self.degraded_reason: str | None = None
        self._reported: tuple[str, str] | None = None
        self.last_points = 0  # what the last full scrape produced: the size of what a failed one missed
        self.slots = ScrapeSlots(self.SCRAPE_WORKERS, f"scrape-{self.id}")

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
        telemetry = self.settings.telemetry
        target_up = telemetry.scrape_target_up.labels(receiver=self.id)
        started, clock = time.time(), time.monotonic()
        try:
            with telemetry.scrape_duration.labels(receiver=self.id).time():
                async with asyncio.timeout(timeout):  # not wait_for: see exporterhelper
                    data = await self.scrape()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self._set_scrape_failing(True, detail)
            self._report("degraded", detail)
            self._count_errored("scrape_failed")
            target_up.set(0)
            self._targets_done(started, clock, 0, error=detail)
            return
        points = count_points(data)
        self._targets_done(started, clock, points, degraded=self.degraded_reason)
        target_up.set(0 if self.degraded_reason else 1)
        self._set_scrape_failing(False)
        self._report("degraded" if self.degraded_reason else "ok", self.degraded_reason or "")
        if self.degraded_reason:
            self._count_errored("target_down")
        else:
            self.last_points = points
        if data.resource_metrics:
            await self._push(data)

    async def _push(self, data: MetricsData) -> None:
        try:
            await self.consumer.consume(data)
        except Exception as exc:  # refused downstream (memory limiter, full queue): counted; keep scraping
            if not self.refused:
                self.refused = True
                self.logger.warning("pipeline refusing scraped data: %s", exc)
            return
        if self.refused:
            self.refused = False
            self.logger.info("pipeline accepting scraped data again")

    def report_target(
        self,
        name: str,
        resource: Mapping[str, Any],
        up: bool,
        detail: str,
        started: float,
        points: int,
        errors: Mapping[str, int],
    ) -> None:
        """For receivers that read several targets (or know their one target's name): one call per target
        read, `started` its unix start time; status pages show each (see `ScrapeTargets`)."""
        if self.host is not None:
            self.host.scrape_targets.record(
                self.id,
                name,
                resource,
                up=up,
                detail=detail,
                started=started,
                duration_s=max(0.0, time.time() - started),
                points=points,
                errors=errors,
            )

    def _targets_done(
        self, started: float, clock: float, points: int, error: str | None = None, degraded: str | None = None
    ) -> None:
        if self.host is not None:
            duration_s = time.monotonic() - clock
            self.host.scrape_targets.scrape_done(
                self.id, started=started, duration_s=duration_s, points=points, error=error, degraded=degraded
            )

    def _count_errored(self, reason: str) -> None:
        """otelcol_scraper_errored_metric_points: the points the last full scrape had (none before one)."""
        self.count_errored(reason, self.last_points)

    def count_errored(self, reason: str, points: int) -> None:
        """Points this scrape could not read, by reason (a subclass counts its partial failures here)."""
        errored = self.settings.telemetry.scraper_errored
        errored.labels(receiver=self.id, scraper=self.settings.id.type, reason=reason).inc(points)

    def _set_scrape_failing(self, failing: bool, detail: str = "") -> None:
        """One line when scrapes start failing and one when they recover, never one per scrape."""
        previous, self.scrape_failing = self.scrape_failing, failing
        if failing and previous is not True:
            self.logger.warning("scrape failed: %s", detail)
        elif not failing and previous is True:
            self.logger.info("scrapes succeeding again")

    def _report(self, status: str, detail: str) -> None:
        if self.host is not None and self._reported != (status, detail):
            self._reported = (status, detail)
            self.host.report_status(self.id, status, detail)

    async def shutdown(self) -> None:
        await self.stop_scraping()
        self.slots.shutdown()

    async def stop_scraping(self) -> None:
        """Ends the schedule (a subclass then releases its targets through `slots` before shutting them)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
