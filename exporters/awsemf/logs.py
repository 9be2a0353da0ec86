"""EMF documents to CloudWatch Logs with PutLogEvents, within every documented batch limit:
≤ 1,048,576 bytes per request counting 26 bytes per event, ≤ 10,000 events, ≤ 1 MB per event,
events sorted by timestamp, no request spanning 24 hours or more; events older than 14 days or more
than 2 hours ahead would be rejected, so they are dropped (and counted) before sending."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from collector.executors import OwnedExecutor
from common.aws.client import call, error_code
from exporters.awsemf.encoder import LogEvent

MAX_REQUEST_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_REQUEST_EVENTS = 10_000
MAX_EVENT_BYTES = 1_048_576 - EVENT_OVERHEAD_BYTES
MAX_SPAN_MS = 24 * 3600 * 1000
MAX_AGE_MS = 14 * 24 * 3600 * 1000
MAX_AHEAD_MS = 2 * 3600 * 1000


@dataclass(frozen=True)
class PutLogEventsRequest:
    group: str
    stream: str
    events: list[dict[str, Any]]  # [{"timestamp": ms, "message": str}], sorted

    @property
    def size(self) -> int:
        return sum(len(e["message"].encode()) + EVENT_OVERHEAD_BYTES for e in self.events)


def plan_requests(
    events: list[LogEvent], on_drop: Callable[[str, int], None], now_ms: int | None = None
) -> list[PutLogEventsRequest]:
    """Split events into PutLogEvents requests per log group/stream, each within the limits."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    by_target: dict[tuple[str, str], list[LogEvent]] = defaultdict(list)
    for event in events:
        if not now_ms - MAX_AGE_MS <= event.timestamp <= now_ms + MAX_AHEAD_MS:
            on_drop("timestamp_out_of_range", 1)
        elif len(event.message.encode()) > MAX_EVENT_BYTES:
            on_drop("event_too_large", 1)
        else:
            by_target[(event.group, event.stream)].append(event)
    requests = []
    for (group, stream), target_events in by_target.items():
        target_events.sort(key=lambda e: e.timestamp)
        batch: list[dict[str, Any]] = []
        size = 0
        for event in target_events:
            event_size = len(event.message.encode()) + EVENT_OVERHEAD_BYTES
            if batch and (
                len(batch) >= MAX_REQUEST_EVENTS
                or size + event_size > MAX_REQUEST_BYTES
                or event.timestamp - batch[0]["timestamp"] >= MAX_SPAN_MS
            ):
                requests.append(PutLogEventsRequest(group, stream, batch))
                batch, size = [], 0
            batch.append({"timestamp": event.timestamp, "message": event.message})
            size += event_size
        if batch:
            requests.append(PutLogEventsRequest(group, stream, batch))
    return requests


def _mark_as_emf(request: Any, **_: Any) -> None:
    """Tells CloudWatch Logs to extract metrics from the events (as the CloudWatch agent does)."""
    request.headers["x-amzn-logs-format"] = "json/emf"


class LogsSender:
    """PutLogEvents with the group and stream created on first need (ResourceNotFoundException)."""

    def __init__(
        self,
        client: Any,
        retention_days: int,
        on_drop: Callable[[str, int], None],
        logger: Any,
        threads: OwnedExecutor,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.threads = threads
        self.retention_days = retention_days
        self.tags = tags or {}
        self.on_drop = on_drop
        self.logger = logger
        client.meta.events.register("before-sign.logs.PutLogEvents", _mark_as_emf)

    async def send(self, request: PutLogEventsRequest) -> None:
        kwargs = {"logGroupName": request.group, "logStreamName": request.stream, "logEvents": request.events}
        try:
            response = await call(
                self.client.put_log_events, frozenset({"ResourceNotFoundException"}), threads=self.threads, **kwargs
            )
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
            await self._create(request.group, request.stream)
            response = await call(self.client.put_log_events, threads=self.threads, **kwargs)
        rejected = response.get("rejectedLogEventsInfo")
        if rejected:
            self._count_rejected(rejected, len(request.events))

    async def _create(self, group: str, stream: str) -> None:
        exists = frozenset({"ResourceAlreadyExistsException"})
        try:
            tagged = {"tags": self.tags} if self.tags else {}
            await call(self.client.create_log_group, exists, threads=self.threads, logGroupName=group, **tagged)
            self.logger.info("created log group", extra={"log_group": group})
            if self.retention_days:
                await call(
                    self.client.put_retention_policy,
                    threads=self.threads,
                    logGroupName=group,
                    retentionInDays=self.retention_days,
                )
        except ClientError as exc:
            if error_code(exc) not in exists:
                raise
        try:
            await call(
                self.client.create_log_stream, exists, threads=self.threads, logGroupName=group, logStreamName=stream
            )
        except ClientError as exc:
            if error_code(exc) not in exists:
                raise

    def _count_rejected(self, info: dict[str, int], total: int) -> None:
        too_new = total - info["tooNewLogEventStartIndex"] if "tooNewLogEventStartIndex" in info else 0
        too_old = info.get("tooOldLogEventEndIndex", -1) + 1
        expired = info.get("expiredLogEventEndIndex", -1) + 1
        self.on_drop("rejected_by_cloudwatch", too_new + max(too_old, expired))
