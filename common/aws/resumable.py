"""A batch that becomes several API requests must not resend the delivered ones when it is retried."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import PermanentError

R = TypeVar("R")


@dataclass
class _Plan(Generic[R]):
    data: MetricsData
    requests: Sequence[R]
    sent: int = 0


class ResumablePlans(Generic[R]):
    """Requests built once per batch (so drop counters count once) and how far sending got.

    Keyed by the batch object the sending queue retries with; bounded, so batches the queue gave up on
    are forgotten eventually.
    """

    def __init__(self, build: Callable[[MetricsData], Sequence[R]], limit: int = 4096) -> None:
        self._build = build
        self._limit = limit
        self._plans: OrderedDict[int, _Plan[R]] = OrderedDict()

    async def send(self, data: MetricsData, send_one: Callable[[R], Awaitable[None]]) -> None:
        """Send what is left of `data`'s requests in order; an exception leaves the rest for the retry.
        A permanent failure forgets the batch (it will not be retried)."""
        plan = self._plans.get(id(data))
        if plan is None or plan.data is not data:
            plan = _Plan(data, self._build(data))
            self._plans[id(data)] = plan
            while len(self._plans) > self._limit:
                self._plans.popitem(last=False)
        try:
            while plan.sent < len(plan.requests):
                await send_one(plan.requests[plan.sent])
                plan.sent += 1
        except PermanentError:
            self._plans.pop(id(data), None)
            raise
        self._plans.pop(id(data), None)
