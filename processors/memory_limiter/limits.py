"""The memory_limiter's arithmetic, kept pure so it is unit-tested without a process under pressure.

Soft and hard limits as in the Collector: hard = `limit_mib` (or `limit_percentage` of the memory
available), soft = hard - spike, spike defaulting to 20% of hard. What counts as "available" is the
cgroup's memory limit when the container has one (what the OOM killer enforces), else the machine's RAM.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
DEFAULT_SPIKE_FRACTION = 0.2
_CGROUP_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a huge page-aligned number near 2**63


class Pressure(enum.Enum):
    """Where usage stands: below soft (accept), soft (refuse), hard (refuse and collect garbage)."""

    NORMAL = "normal"
    SOFT = "soft"
    HARD = "hard"

    @property
    def refusing(self) -> bool:
        return self is not Pressure.NORMAL


@dataclass(frozen=True)
class Limits:
    hard_bytes: int
    soft_bytes: int

    def classify(self, usage_bytes: float) -> Pressure:
        if usage_bytes >= self.hard_bytes:
            return Pressure.HARD
        if usage_bytes >= self.soft_bytes:
            return Pressure.SOFT
        return Pressure.NORMAL


def fixed_limits(limit_bytes: int, spike_bytes: int = 0) -> Limits:
    """Hard limit and spike in bytes; a zero spike means 20% of the hard limit, as in the Collector."""
    spike = spike_bytes or int(limit_bytes * DEFAULT_SPIKE_FRACTION)
    return Limits(hard_bytes=limit_bytes, soft_bytes=limit_bytes - spike)


def percentage_limits(available_bytes: int, limit_percentage: float, spike_percentage: float) -> Limits:
    return fixed_limits(int(available_bytes * limit_percentage / 100), int(available_bytes * spike_percentage / 100))


def _read_limit(path: Path) -> int | None:
    """A cgroup limit file's value in bytes; None when absent, unreadable or unlimited (`max`)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except OSError:
        return None
    if not text.isdigit() or int(text) >= _CGROUP_UNLIMITED:
        return None
    return int(text)


def _own_cgroup_paths(proc_cgroup: Path) -> tuple[str | None, str | None]:
    """This process's (v2 path, v1 memory-controller path) from /proc/self/cgroup."""
    v2 = v1 = None
    try:
        lines = proc_cgroup.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None, None
    for line in lines:
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            v2 = path
        elif "memory" in controllers.split(","):
            v1 = path
    return v2, v1


def cgroup_memory_limit(
    root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")
) -> int | None:
    """The memory limit of this process's cgroup (v2 `memory.max`, else v1 `memory.limit_in_bytes`).

    Inside a container the cgroup namespace makes the process's own cgroup the root, so both the path
    named in /proc/self/cgroup and the root of the hierarchy are tried.
    """
    v2, v1 = _own_cgroup_paths(proc_cgroup)
    candidates = [root / (v2 or "/").lstrip("/") / "memory.max", root / "memory.max"]
    candidates += [root / "memory" / (v1 or "/").lstrip("/") / "memory.limit_in_bytes"]
    candidates += [root / "memory" / "memory.limit_in_bytes"]
    for path in candidates:
        limit = _read_limit(path)
        if limit is not None:
            return limit
    return None


def physical_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def available_memory_bytes() -> int:
    """What percentage limits are relative to: the cgroup limit if set (and below RAM), else RAM."""
    physical = physical_memory_bytes()
    cgroup = cgroup_memory_limit()
    return min(cgroup, physical) if cgroup else physical
