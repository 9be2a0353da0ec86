"""What every benchmark module returns: named figures, each with its peer or limit and the ratio."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Figure:
    name: str
    value: float
    unit: str
    peer: str | None = None
    ratio: float | None = None
    target: str | None = None  # e.g. ">= 10" for the ratio, or "<= 64" for the value

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median_seconds(call: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall time of `call` over `repeat` runs: medians resist the noise of a shared machine."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
