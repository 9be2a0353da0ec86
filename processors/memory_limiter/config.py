"""The `memory_limiter` processor's settings, and the limits (limits.py) they give on this machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, Self

from pydantic import Field, model_validator

from collector.component import ConfigModel
from collector.configtypes import Duration, PositiveDuration, Refused
from processors.memory_limiter.limits import (
    MIB,
    Limits,
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
    admission: Annotated[
        Any,
        Refused(
            "the admission model is not available; receivers reserve each request's memory against the limits above"
        ),
    ] = None

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
