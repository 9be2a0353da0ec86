"""Thread pools a component owns, so its blocking work (disk, boto3, decoding) never shares a pool.

Every component that blocks gets its own small, bounded pool instead of the loop's default executor:
when one component's threads hang (a stuck disk, a slow backend), only that component waits. The
loop's default executor is shared by everything that calls `asyncio.to_thread`, so one hung caller
there once starved every exporter.

A thread cannot be stopped. `OwnedExecutor.run` therefore keeps its caller waiting for the work even
when the caller is cancelled (a timeout): the caller learns what really happened instead of believing
the work was abandoned and doing it a second time. See `run` for the exact contract.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class OwnedExecutor:
    """A bounded thread pool belonging to one component (`name` shows in thread names and dumps)."""

    def __init__(self, name: str, max_workers: int = 1) -> None:
        self.name = name
        self.max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:  # created on first use: components that never block cost no thread
            self._pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix=self.name)
        return self._pool

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run `fn` on this pool and return its result.

        If the caller is cancelled while `fn` runs, the caller still waits for `fn` to end (a second
        cancellation stops the wait). When `fn` then succeeded, its result is returned and the
        cancellation is withdrawn: the work was done, and reporting it as abandoned is how a timed-out
        export came to be written twice. When `fn` failed, its exception is raised.
        """
        work = self._executor().submit(functools.partial(fn, *args, **kwargs))
        future = asyncio.wrap_future(work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if work.cancel():
                raise  # it had not started: cancelled for real
            await asyncio.wait({future})  # a second cancellation of the caller ends this wait
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            return future.result()  # fn's result, or fn's own exception

    def submit(self, fn: Callable[..., T], *args: object) -> asyncio.Future[T]:
        """Run `fn` and return its future, for a caller that may give up waiting (a start-up deadline)
        and leave the work to end on its own; unlike `run`, cancelling the future does not wait."""
        return asyncio.wrap_future(self._executor().submit(fn, *args))

    def shutdown(self) -> None:
        """Release idle threads; work still running finishes on its own (threads cannot be killed)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
