"""scraperhelper.ScrapeSlots: a receiver's own bounded threads, one call in flight per target (unit test)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from collector.scraperhelper import ScrapeSlots, SlotBusy


async def test_a_hung_call_keeps_only_its_own_targets_slot() -> None:
    slots = ScrapeSlots(4, "test")
    release = threading.Event()
    try:
        hung = asyncio.ensure_future(slots.run("a", release.wait))
        await asyncio.sleep(0.05)
        with pytest.raises(SlotBusy):
            await slots.run("a", lambda: "again")  # refused at once: no second thread parked for target a
        assert await slots.run("b", lambda: "b read") == "b read"  # another target is not held up
        release.set()
        assert await hung is True
        assert await slots.run("a", lambda: "a again") == "a again", "the slot is free once the call returns"
    finally:
        release.set()
        slots.shutdown()


async def test_threads_are_the_receivers_own_and_bounded() -> None:
    slots = ScrapeSlots(2, "scrape-jmx-x")
    lock, running, peak = threading.Lock(), [0], [0]

    def work() -> str:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.1)
        with lock:
            running[0] -= 1
        return threading.current_thread().name

    try:
        names = await asyncio.gather(*(slots.run(key, work) for key in "abcde"))
    finally:
        slots.shutdown()
    assert peak[0] == 2, "never more threads than the receiver's bound"
    assert all(name.startswith("scrape-jmx-x") for name in names), names
