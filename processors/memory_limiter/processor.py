from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Host, MemoryGate, PermanentError, Processor
from collector.executors import OwnedExecutor
from collector.telemetry import resident_memory_bytes
from processors.memory_limiter.config import MemoryLimiterConfig
from processors.memory_limiter.limits import (
    MIB,
    Limits,
    Pressure,
    available_memory_bytes,
)


class MemoryLimitExceeded(Exception):
    """Retryable refusal: receivers count the points as refused and tell the sender to retry later."""


class _Reservation:
    """Bytes one request holds from `reserve` until `release` (see `MemoryLimiterProcessor.reserve`)."""

    def __init__(self, limiter: MemoryLimiterProcessor) -> None:
        self.limiter = limiter
        self.nbytes = 0

    def grow(self, nbytes: int) -> None:
        self.limiter.admit(nbytes)
        self.nbytes += nbytes

    def release(self) -> None:
        self.limiter.reserved -= self.nbytes
        self.nbytes = 0


class MemoryLimiterProcessor(Processor, MemoryGate):
    """Refuses data while the process's RSS is above the soft limit; above the hard limit it also runs a
    full garbage collection at every check. Memory is measured in the background every `check_interval`,
    so `consume` costs one attribute read.

    It is also a `MemoryGate`: receivers reserve what a request will cost (its body and what it decodes
    to) before reading or decoding it, and the reservation is refused when the RSS measured now plus every
    reservation held would pass the hard limit. Checking only after a decode, as `consume` does, let
    concurrent large requests take the process far past the limit before the first was refused.
    """

    config: MemoryLimiterConfig

    def __init__(
        self,
        *args: Any,
        memory_usage: Callable[[], float] = resident_memory_bytes,
        available_bytes: Callable[[], int] = available_memory_bytes,
    ) -> None:
        super().__init__(*args)
        self._memory_usage = memory_usage
        self._available_bytes = available_bytes
        self.limits: Limits | None = None
        self.pressure = Pressure.NORMAL
        self._host: Host | None = None
        self._checker: asyncio.Task[None] | None = None
        self._last_gc = float("-inf")
        self.reserved = 0

    async def start(self, host: Host) -> None:
        self._host = host
        reader = OwnedExecutor(self.id)  # reads /sys and /proc once: not worth a thread kept for good
        try:
            self.limits = await reader.run(self.config.limits, self._available_bytes)
        finally:
            reader.shutdown()
        self.logger.info(
            "memory limiter started",
            extra={"soft_limit_mib": _mib(self.limits.soft_bytes), "hard_limit_mib": _mib(self.limits.hard_bytes)},
        )
        self.check()
        self._checker = asyncio.create_task(self._check_periodically(), name=f"{self.id} checker")

    async def _check_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.config.check_interval)
            self.check()

    def check(self) -> Pressure:
        """Measure once, act on the result and log only when refusing starts or stops."""
        assert self.limits is not None
        usage = self._memory_usage()
        pressure = self.limits.classify(usage)
        if pressure.refusing:
            self._collect_garbage(pressure)
        if pressure.refusing != self.pressure.refusing:
            self._report_change(pressure, usage)
        self.pressure = pressure
        return pressure

    def _collect_garbage(self, pressure: Pressure) -> None:
        """A full collection above either limit, at most once per the Collector's min_gc_interval_* for that
        limit. On the loop on purpose: it must not race the allocations it is trying to free."""
        config = self.config
        interval = (
            config.min_gc_interval_when_hard_limited
            if pressure is Pressure.HARD
            else config.min_gc_interval_when_soft_limited
        )
        now = time.monotonic()
        if now - self._last_gc >= interval:
            gc.collect()
            self._last_gc = now

    def _report_change(self, pressure: Pressure, usage: float) -> None:
        assert self.limits is not None
        fields = {"usage_mib": _mib(usage), "soft_limit_mib": _mib(self.limits.soft_bytes)}
        if pressure.refusing:
            self.logger.warning("memory usage above the soft limit: refusing data", extra=fields)
            detail = f"refusing data: RSS {_mib(usage)} MiB above the soft limit {_mib(self.limits.soft_bytes)} MiB"
            status = "degraded"
        else:
            self.logger.info("memory usage back below the soft limit: accepting data", extra=fields)
            status, detail = "ok", ""
        if self._host is not None:
            self._host.report_status(self.id, status, detail)

    def reserve(self, nbytes: int) -> _Reservation:
        reservation = _Reservation(self)
        reservation.grow(nbytes)
        return reservation

    def admit(self, nbytes: int) -> None:
        """Take `nbytes` more or raise `MemoryLimitExceeded`; RSS is read now (a /proc read), not at the last check."""
        if self.limits is None:  # not started: nothing to measure against yet
            return
        if nbytes > self.limits.hard_bytes:
            raise PermanentError(f"{_mib(nbytes)} MiB needed, limit_mib is {_mib(self.limits.hard_bytes)}")
        if self.pressure.refusing or self._memory_usage() + self.reserved + nbytes > self.limits.hard_bytes:
            raise MemoryLimitExceeded("data refused due to high memory usage")
        self.reserved += nbytes

    async def consume(self, data: MetricsData) -> None:
        if self.pressure.refusing:
            raise MemoryLimitExceeded("data refused due to high memory usage")
        await self.next_consumer.consume(data)

    async def shutdown(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            await asyncio.gather(self._checker, return_exceptions=True)
            self._checker = None


def _mib(value: float) -> float:
    return round(value / MIB, 1)
