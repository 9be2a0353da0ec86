"""The memory_limiter's decisions, with memory usage fed in by the test (unit tests of logic only; the
real-process test is test_memory_limiter_process.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging

import pytest
from pydantic import ValidationError

from collector.testing import NopHost, RecordingConsumer, create, gauge, metrics_data
from processors.memory_limiter import MemoryLimiterConfig, factory
from processors.memory_limiter.limits import (
    MIB,
    Pressure,
    available_memory_bytes,
    cgroup_memory_limit,
    fixed_limits,
    percentage_limits,
    physical_memory_bytes,
)
from processors.memory_limiter.processor import MemoryLimiterProcessor, MemoryLimitExceeded


class FakeMemory:
    def __init__(self, mib: float) -> None:
        self.mib = mib

    def __call__(self) -> float:
        return self.mib * MIB


def limiter(memory: FakeMemory, available_mib: int = 1000, **config):
    limited = functools.partial(
        MemoryLimiterProcessor, memory_usage=memory, available_bytes=lambda: available_mib * MIB
    )
    recorder = RecordingConsumer()
    return create(dataclasses.replace(factory, create=limited), config, consumer=recorder), recorder


# --- limits ---------------------------------------------------------------------------------------------


def test_spike_defaults_to_a_fifth_of_the_hard_limit():
    limits = fixed_limits(100 * MIB)
    assert (limits.hard_bytes, limits.soft_bytes) == (100 * MIB, 80 * MIB)
    assert fixed_limits(100 * MIB, 30 * MIB).soft_bytes == 70 * MIB


def test_percentages_are_of_the_available_memory():
    limits = percentage_limits(2000 * MIB, 50, 10)
    assert (limits.hard_bytes, limits.soft_bytes) == (1000 * MIB, 800 * MIB)
    assert percentage_limits(2000 * MIB, 50, 0).soft_bytes == 800 * MIB


@pytest.mark.parametrize(
    ("usage_mib", "expected"),
    [(0, Pressure.NORMAL), (79.9, Pressure.NORMAL), (80, Pressure.SOFT), (99.9, Pressure.SOFT), (100, Pressure.HARD)],
)
def test_classify_against_soft_and_hard(usage_mib, expected):
    assert fixed_limits(100 * MIB).classify(usage_mib * MIB) is expected


def test_limit_mib_wins_over_percentage():
    config = MemoryLimiterConfig(limit_mib=100, limit_percentage=90)
    assert config.limits(lambda: 10_000 * MIB).hard_bytes == 100 * MIB
    config = MemoryLimiterConfig(limit_percentage=10)
    assert config.limits(lambda: 10_000 * MIB).hard_bytes == 1000 * MIB


# --- config errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "set limit_mib or limit_percentage"),
        ({"limit_mib": 100, "spike_limit_mib": 100}, "spike_limit_mib must be smaller than limit_mib"),
        ({"limit_percentage": 50, "spike_limit_percentage": 60}, "spike_limit_percentage must be smaller"),
        ({"limit_percentage": 101}, "less than or equal to 100"),
        ({"limit_mib": 100, "check_interval": "0s"}, "greater than 0"),
        ({"limit_mib": -1}, "greater than or equal to 0"),
    ],
)
def test_bad_configs_are_refused(config, message):
    with pytest.raises(ValidationError, match=message):
        MemoryLimiterConfig.model_validate(config)


# --- cgroup discovery -------------------------------------------------------------------------------------


def test_cgroup_v2_limit_of_the_process_own_cgroup(tmp_path):
    (tmp_path / "proc").write_text("0::/system.slice/collector.service\n")
    own = tmp_path / "system.slice" / "collector.service"
    own.mkdir(parents=True)
    (own / "memory.max").write_text("536870912\n")
    assert cgroup_memory_limit(tmp_path, tmp_path / "proc") == 512 * MIB


def test_cgroup_v2_max_means_no_limit_and_v1_is_the_fallback(tmp_path):
    (tmp_path / "proc").write_text("0::/\n")
    (tmp_path / "memory.max").write_text("max\n")
    assert cgroup_memory_limit(tmp_path, tmp_path / "proc") is None
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("268435456\n")
    assert cgroup_memory_limit(tmp_path, tmp_path / "proc") == 256 * MIB
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "unlimited"
    assert cgroup_memory_limit(tmp_path, tmp_path / "proc") is None


def test_cgroup_v1_own_memory_controller_path(tmp_path):
    (tmp_path / "proc").write_text("12:cpu,cpuacct:/x\n4:memory:/docker/abc\n")
    own = tmp_path / "memory" / "docker" / "abc"
    own.mkdir(parents=True)
    (own / "memory.limit_in_bytes").write_text("104857600\n")
    assert cgroup_memory_limit(tmp_path, tmp_path / "proc") == 100 * MIB


def test_percentage_limits_use_the_cgroup_limit_when_a_container_has_one():
    limit = cgroup_memory_limit()
    config = MemoryLimiterConfig(limit_percentage=50)
    expected = min(limit, physical_memory_bytes()) if limit else physical_memory_bytes()
    assert available_memory_bytes() == expected
    assert config.limits().hard_bytes == expected // 2


# --- the processor ----------------------------------------------------------------------------------------


async def test_refuses_above_soft_accepts_again_below_and_logs_each_change_once(caplog):
    memory, host = FakeMemory(10), NopHost()
    processor, recorder = limiter(memory, limit_mib=100, check_interval="1h")
    caplog.set_level(logging.INFO, logger="collector.processor")
    await processor.start(host)
    try:
        await processor.consume(metrics_data(gauge("m", 1)))
        assert len(recorder.batches) == 1

        memory.mib = 85
        for _ in range(3):
            assert processor.check() is Pressure.SOFT
        with pytest.raises(MemoryLimitExceeded, match="high memory usage"):
            await processor.consume(metrics_data(gauge("m", 1)))
        assert len(recorder.batches) == 1

        memory.mib = 50
        processor.check()
        processor.check()
        await processor.consume(metrics_data(gauge("m", 1)))
        assert len(recorder.batches) == 2
    finally:
        await processor.shutdown()

    messages = [r.getMessage() for r in caplog.records if "soft limit" in r.getMessage()]
    assert messages == [
        "memory usage above the soft limit: refusing data",
        "memory usage back below the soft limit: accepting data",
    ]
    assert [report.status for report in host.reports] == ["degraded", "ok"]
    assert "85.0 MiB" in host.reports[0].detail


async def test_hard_limit_forces_garbage_collection(monkeypatch):
    collections = []
    monkeypatch.setattr("processors.memory_limiter.processor.gc.collect", lambda: collections.append(1))
    memory = FakeMemory(90)
    processor, _ = limiter(memory, limit_mib=100, check_interval="1h")
    await processor.start(NopHost())
    try:
        processor.check()
        assert collections == [1]  # soft: once per min_gc_interval_when_soft_limited (10s), as the Collector
        memory.mib = 120
        assert processor.check() is Pressure.HARD
        processor.check()
        assert len(collections) == 3  # hard: min_gc_interval_when_hard_limited is 0, every check
        with pytest.raises(MemoryLimitExceeded):
            await processor.consume(metrics_data(gauge("m", 1)))
    finally:
        await processor.shutdown()


async def test_memory_is_checked_in_the_background_not_per_batch():
    calls = []

    def memory() -> float:
        calls.append(1)
        return 10 * MIB

    processor, recorder = limiter(memory, limit_mib=100, check_interval="20ms")
    await processor.start(NopHost())
    try:
        started = len(calls)
        for _ in range(50):
            await processor.consume(metrics_data(gauge("m", 1)))
        assert len(calls) == started  # consume never measured
        await asyncio.sleep(0.2)
        assert len(calls) > started  # the checker did
    finally:
        await processor.shutdown()
    assert len(recorder.batches) == 50


async def test_percentage_limits_follow_the_available_memory():
    memory = FakeMemory(450)
    processor, _ = limiter(
        memory, available_mib=1000, limit_percentage=50, spike_limit_percentage=10, check_interval="1h"
    )
    await processor.start(NopHost())
    try:
        assert (processor.limits.hard_bytes, processor.limits.soft_bytes) == (500 * MIB, 400 * MIB)
        assert processor.pressure is Pressure.SOFT
    finally:
        await processor.shutdown()
