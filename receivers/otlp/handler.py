"""One export call, transport-independent: decode, push into the pipeline, say what happened.

Nothing reaches the pipeline half-parsed: a request is decoded whole before `consume` is called.
"""

from __future__ import annotations

import logging

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from collector.component import Consumer, PermanentError
from collector.otlpdecode import decode
from collector.telemetry import Telemetry
from receivers.otlp.codec import Outcome

DEFAULT_RETRY_AFTER_S = 1


class Refused(Exception):
    """The pipeline did not take the batch. `retryable` picks 503/UNAVAILABLE over 400/INVALID_ARGUMENT."""

    def __init__(self, message: str, retryable: bool, retry_after: int = DEFAULT_RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class StateLog:
    """Logs a condition when it starts and when it ends, never once per request."""

    def __init__(self, logger: logging.LoggerAdapter, started: str, ended: str) -> None:
        self.logger, self.started, self.ended = logger, started, ended
        self.active = False

    def set(self, reason: str, **extra: object) -> None:
        if not self.active:
            self.active = True
            self.logger.warning(self.started, extra={"reason": reason, **extra})

    def clear(self) -> None:
        if self.active:
            self.active = False
            self.logger.info(self.ended)


class ExportHandler:
    def __init__(self, receiver_id: str, consumer: Consumer, telemetry: Telemetry, logger: logging.LoggerAdapter):
        self.receiver_id = receiver_id
        self.consumer = consumer
        self.telemetry = telemetry
        self.malformed = StateLog(logger, "rejecting malformed OTLP requests", "OTLP requests are well-formed again")
        self.refusing = StateLog(logger, "pipeline is refusing data: clients told to retry", "pipeline accepts again")

    def bad_request(self, reason: str, transport: str) -> None:
        """Unparseable requests have no point count: they are answered and logged, never counted as points."""
        self.malformed.set(reason, transport=transport)

    async def export(self, request: ExportMetricsServiceRequest) -> Outcome:
        self.malformed.clear()
        result = decode(request)
        for reason, points in result.rejected.items():
            self.telemetry.dropped_points.labels(component=self.receiver_id, reason=reason).inc(points)
        if result.data.resource_metrics:
            try:
                await self.consumer.consume(result.data)  # refused points are counted by the pipeline
            except PermanentError as exc:
                raise Refused(f"data refused by the pipeline: {exc}", retryable=False) from exc
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
                self.refusing.set(reason)
                retry_after = int(getattr(exc, "retry_after", 0) or DEFAULT_RETRY_AFTER_S)
                raise Refused(f"pipeline unavailable: {reason}", retryable=True, retry_after=retry_after) from exc
            self.refusing.clear()
        return Outcome(result.rejected_points, result.error_message())
