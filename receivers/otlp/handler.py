"""One export call, transport-independent: admit, decode, push into the pipeline, say what happened.

Nothing reaches the pipeline half-parsed: a request is decoded whole before `consume` is called. Before a
body is read or decoded its memory cost is reserved with the pipeline's memory gate (`memory_limiter`),
and decoding runs on the receiver's own small thread pool, never on the event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from collector.component import Consumer, MemoryGate, PermanentError, Reservation, TransientError
from collector.executors import OwnedExecutor
from collector.logs import Rejections
from collector.otlpdecode import DecodeResult, decode
from collector.telemetry import Telemetry
from receivers.otlp.codec import Outcome, RequestTooLarge

DEFAULT_RETRY_AFTER_S = 1

DECODE_EXPANSION = 24
"""Bytes of memory one byte of (uncompressed) request takes once parsed and decoded into the SDK's model:
about 7 for the protobuf message and 14 more for the SDK objects, measured on number points."""

DECODE_THREADS = 2


class Refused(Exception):
    """The pipeline did not take the batch. `retryable` picks 503/UNAVAILABLE over 400/INVALID_ARGUMENT."""

    def __init__(self, message: str, retryable: bool, retry_after: int = DEFAULT_RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class _Unlimited:
    """The reservation when no memory gate is downstream."""

    def grow(self, nbytes: int) -> None:
        pass

    def release(self) -> None:
        pass


class ExportHandler:
    def __init__(self, receiver_id: str, consumer: Consumer, telemetry: Telemetry, logger: logging.LoggerAdapter):
        self.receiver_id = receiver_id
        self.consumer = consumer
        self.telemetry = telemetry
        counter = telemetry.rejected_requests
        self.rejected = Rejections(logger, lambda reason: counter.labels(component=receiver_id, reason=reason).inc())
        self.decoder = OwnedExecutor(f"decode-{receiver_id}", DECODE_THREADS)

    def bad_request(self, reason: str, detail: str, transport: str) -> None:
        """Refused requests have no point count: they are answered, counted by reason and logged rarely."""
        self.rejected(reason, detail, transport=transport)

    def reserve(self, nbytes: int) -> Reservation:
        """Memory for a request about to be read; raises `Refused` (retryable) when the gate says no."""
        if not isinstance(self.consumer, MemoryGate):
            return _Unlimited()
        return self._guarded(lambda: self.consumer.reserve(nbytes))  # type: ignore[union-attr]

    def grow(self, reservation: Reservation, nbytes: int) -> None:
        self._guarded(lambda: reservation.grow(nbytes))

    def _guarded(self, take: Callable[[], Reservation | None]) -> Reservation:
        try:
            return take()  # type: ignore[return-value]
        except PermanentError as exc:  # larger than the memory limit itself: never admissible
            raise RequestTooLarge(f"request cannot fit under the memory limit: {exc}") from exc
        except Exception as exc:
            self.rejected("memory_limit", str(exc))
            raise Refused(f"pipeline unavailable: {exc}", retryable=True) from exc

    async def decode(self, parse: Callable[[], ExportMetricsServiceRequest]) -> DecodeResult:
        """Parse and decode on the receiver's threads: a large request takes seconds of CPU."""
        return await self.decoder.run(lambda: decode(parse()))

    async def export(self, result: DecodeResult) -> Outcome:
        for reason, points in result.rejected.items():
            self.telemetry.dropped_points.labels(component=self.receiver_id, reason=reason).inc(points)
        if result.data.resource_metrics:
            try:
                await self.consumer.consume(result.data)  # refused points are counted by the pipeline
            except PermanentError as exc:
                self.rejected("refused_permanently", str(exc))
                raise Refused(f"data refused by the pipeline: {exc}", retryable=False) from exc
            except Exception as exc:
                reason = str(exc) or type(exc).__name__
                self.rejected("refused_by_pipeline", reason)
                hint = exc.retry_after if isinstance(exc, TransientError) else None
                retry_after = int(hint or DEFAULT_RETRY_AFTER_S)
                raise Refused(f"pipeline unavailable: {reason}", retryable=True, retry_after=retry_after) from exc
        return Outcome(result.rejected_points, result.error_message())

    def shutdown(self) -> None:
        self.decoder.shutdown()
