"""otlp_receive_points_per_sec: OTLP/gRPC requests through the real `otlp` receiver and pipeline into an
exporter that discards, so the figure is the receiver's cost (gRPC, parse, decode to the SDK model).

The peer is the SDK's own encoder on the same points in the same process: the ratio says how many times
faster (or slower) the collector takes points in than an SDK client can produce them, which holds on any
machine. Requests are encoded once up front and sent with 4 calls in flight on the same event loop.
"""

from __future__ import annotations

import asyncio
import time

import grpc
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Metric,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from benchmarks.figures import Figure, median_seconds
from collector.component import ConfigModel, Exporter, ExporterFactory
from collector.config import validate
from collector.exporterhelper import QueueConfig, SendingConfig, fixed_sending
from collector.metrics import count_points
from collector.otlpjson import to_request
from collector.pipeline import Service
from collector.registry import Registry
from receivers.otlp import factory as otlp_factory

FIGURES = ("otlp_receive_points_per_sec",)
METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
POINTS_PER_REQUEST = 1000
IN_FLIGHT = 4


class DiscardConfig(ConfigModel):
    pass


class DiscardExporter(Exporter):
    points = 0

    async def export(self, data: MetricsData) -> None:
        DiscardExporter.points += count_points(data)


DISCARD = ExporterFactory(
    "discard",
    DiscardConfig,
    DiscardExporter,
    sending=fixed_sending(SendingConfig(sending_queue=QueueConfig(enabled=False))),
)


def sample_batch(number: int) -> MetricsData:
    """Debezium-like points: a gauge and a counter per connector task, three attributes each."""
    half = POINTS_PER_REQUEST // 2
    attrs = [{"server": f"db{i % 50}", "plugin": "mysql", "task": i} for i in range(half)]
    now = time.time_ns()
    metrics = [
        Metric(
            "debezium.streaming.MilliSecondsBehindSource",
            "",
            "ms",
            Gauge([NumberDataPoint(a, 0, now, number + i) for i, a in enumerate(attrs)]),
        ),
        Metric(
            "debezium.streaming.TotalNumberOfEventsSeen",
            "",
            "{event}",
            Sum(
                [NumberDataPoint(a, now - 10**9, now, number * 3 + i) for i, a in enumerate(attrs)],
                AggregationTemporality.CUMULATIVE,
                True,
            ),
        ),
    ]
    scope = ScopeMetrics(InstrumentationScope("bench"), metrics, "")
    return MetricsData([ResourceMetrics(Resource({"service.name": "connect"}), [scope], "")])


async def _receive(requests: list[bytes], port: int) -> float:
    registry = Registry()
    registry.add(otlp_factory)
    registry.add(DISCARD)
    config = validate(
        {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": f"127.0.0.1:{port}"}}}},
            "exporters": {"discard": {}},
            "service": {"pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["discard"]}}},
        },
        registry,
    )
    service = Service(config)
    await service.start()
    port = service.graph.receivers["otlp"].grpc.port
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(METHOD)
            await call(requests[0])  # connect and warm up outside the timing
            DiscardExporter.points = 0
            queue = list(requests)
            started = time.perf_counter()

            async def sender() -> None:
                while queue:
                    await call(queue.pop())

            await asyncio.gather(*(sender() for _ in range(IN_FLIGHT)))
            elapsed = time.perf_counter() - started
    finally:
        await service.shutdown()
    expected = len(requests) * POINTS_PER_REQUEST
    if DiscardExporter.points != expected:
        raise RuntimeError(f"lost points: {DiscardExporter.points} of {expected} arrived")
    return elapsed


def run(quick: bool) -> list[Figure]:
    count = 20 if quick else 100
    batches = [sample_batch(n) for n in range(count)]
    requests = [to_request(b).SerializeToString() for b in batches]
    points = count * POINTS_PER_REQUEST
    elapsed = min(asyncio.run(_receive(requests, 0)) for _ in range(1 if quick else 3))
    encode_s = median_seconds(lambda: [to_request(b) for b in batches], repeat=1 if quick else 3)
    receive_pps = points / elapsed
    encode_pps = points / encode_s
    return [
        Figure(
            name="otlp_receive_points_per_sec",
            value=receive_pps,
            unit="points/s",
            peer="opentelemetry-sdk OTLP encoder, same points",
            ratio=receive_pps / encode_pps,
        )
    ]
