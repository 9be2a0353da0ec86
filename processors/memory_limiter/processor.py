from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from typing import Literal, Self

from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import Field, model_validator

from collector.component import (
    ConfigModel,
    Consumer,
    CreateSettings,
    Factory,
    Host,
    Kind,
    PermanentError,
    Processor,
    Stability,
)
from collector.configtypes import Duration, PositiveDuration, Refused
from collector.executors import OwnedExecutor
from collector.telemetry import resident_memory_bytes
from processors.memory_limiter.limits import (
    MIB,
    Limits,
    Pressure,
    available_memory_bytes,
    fixed_limits,
    percentage_limits,
)


class MemoryLimiterConfig(ConfigModel):
    """The Collector memory_limiter's keys. `limit_mib` wins over `limit_percentage` when both are set."""

    check_interval: PositiveDuration = Field(1.0, description="How often the process's RSS is measured.")
    limit_mib: int = Field(0, ge=0, description="Hard limit on RSS in MiB; 0 = use limit_percentage.")
    spike_limit_mib: int = Field(0, ge=0, description="Soft limit = limit_mib - spike_limit_mib; 0 = 20% of limit_mib.")
    limit_percentage: int = Field(
        0, ge=0, le=100, description="Hard limit as a percentage of the cgroup memory limit (else of RAM)."
    )
    spike_limit_percentage: int = Field(
        0, ge=0, le=100, description="Spike as a percentage of the same memory; 0 = 20% of the hard limit."
    )
    min_gc_interval_when_soft_limited: Duration = Field(
        10.0, ge=0, description="At least this long between forced garbage collections above the soft limit."
    )
    min_gc_interval_when_hard_limited: Duration = Field(
        0.0, ge=0, description="At least this long between forced garbage collections above the hard limit."
    )
    model: Literal["gcstats"] = Field("gcstats", description="Only the Collector's default model.")
    admission: Refused(
        "the admission model is not available; receivers reserve each request's memory against the limits above"
    ) = None

    @model_validator(mode="after")
    def _limits_make_sense(self) -> Self:
        if self.min_gc_interval_when_soft_limited < self.min_gc_interval_when_hard_limited:
            raise ValueError(
                "min_gc_interval_when_soft_limited should be larger than min_gc_interval_when_hard_limited"
            )
        if self.limit_mib:
            if self.spike_limit_mib >= self.limit_mib:
                raise ValueError("spike_limit_mib must be smaller than limit_mib")
        elif self.limit_percentage:
            if self.spike_limit_percentage >= self.limit_percentage:
                raise ValueError("spike_limit_percentage must be smaller than limit_percentage")
        else:
            raise ValueError("set limit_mib or limit_percentage to a value greater than zero")
        return self

    def limits(self, available_bytes: Callable[[], int] = available_memory_bytes) -> Limits:
        if self.limit_mib:
            return fixed_limits(self.limit_mib * MIB, self.spike_limit_mib * MIB)
        return percentage_limits(available_bytes(), self.limit_percentage, self.spike_limit_percentage)


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


class MemoryLimiterProcessor(Processor[MemoryLimiterConfig]):
    """Refuses data while the process's RSS is above the soft limit; above the hard limit it also runs a
    full garbage collection at every check. Memory is measured in the background every `check_interval`,
    so `consume` costs one attribute read.

    It is also a `MemoryGate`: receivers reserve what a request will cost (its body and what it decodes
    to) before reading or decoding it, and the reservation is refused when the RSS measured now plus every
    reservation held would pass the hard limit. Checking only after a decode, as `consume` does, let
    concurrent large requests take the process far past the limit before the first was refused.
    """

    def __init__(
        self,
        settings: CreateSettings,
        config: MemoryLimiterConfig,
        next_consumer: Consumer,
        *,
        memory_usage: Callable[[], float] = resident_memory_bytes,
        available_bytes: Callable[[], int] = available_memory_bytes,
    ) -> None:
        super().__init__(settings, config, next_consumer)
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


factory = Factory(
    type="memory_limiter",
    kind=Kind.PROCESSOR,
    config_model=MemoryLimiterConfig,
    create=MemoryLimiterProcessor,
    stability=Stability.BETA,
    description="Refuses data while the collector's memory is above a soft limit, as the Collector's memory_limiter.",
)
