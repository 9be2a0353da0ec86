"""EMF encoding throughput: our awsemf encoder against aws-embedded-metrics (AWS's own EMF library)
encoding the same points into the same document shape.

Points: 20 connectors (`server` label) x 100 gauges, one timestamp, every metric declared with one
dimension set [server] -> 20 documents of 100 metrics each on both sides. Ours starts from the SDK's
MetricsData as the pipeline hands it over; the peer from plain (name, value, unit) tuples through its
MetricsContext.put_metric and LogSerializer (its encoding path, without its sink).

Both are timed alternately in CPU time of the calling thread (medians): on a machine shared with
other jobs, wall time mostly measures the others.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from opentelemetry.sdk.metrics.export import Gauge, Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from benchmarks.figures import Figure
from exporters.awsemf.config import AwsEmfConfig
from exporters.awsemf.encoder import EmfEncoder, encoder_for

FIGURES = ("emf_encode_points_per_sec",)
SERVERS = 20
METRICS = 100
NAMESPACE = "Debezium"


def _points() -> list[tuple[str, str, float]]:
    return [
        (f"server-{s:02d}", f"debezium.streaming.Attribute{m:03d}", float(s * 1000 + m))
        for s in range(SERVERS)
        for m in range(METRICS)
    ]


def _ours(points: list[tuple[str, str, float]], t_ns: int) -> tuple[EmfEncoder, MetricsData]:
    metrics = [
        Metric(name, "", "ms", Gauge([NumberDataPoint({"server": server}, 0, t_ns, value)]))
        for server, name, value in points
    ]
    data = MetricsData([ResourceMetrics(Resource({}), [ScopeMetrics(InstrumentationScope("bench"), metrics, "")], "")])
    config = AwsEmfConfig(namespace=NAMESPACE, output_destination="stdout")
    return encoder_for(config, lambda reason, n: None, logging.getLogger("bench")), data


def _peer_encode(points: list[tuple[str, str, float]], timestamp: datetime) -> list[str]:
    from aws_embedded_metrics.logger.metrics_context import MetricsContext
    from aws_embedded_metrics.serializers.log_serializer import LogSerializer

    contexts: dict[str, MetricsContext] = {}
    for server, name, value in points:
        context = contexts.get(server)
        if context is None:
            context = contexts[server] = MetricsContext.empty()
            context.namespace = NAMESPACE
            context.set_dimensions([{"server": server}])
            context.set_timestamp(timestamp)
        context.put_metric(name, value, "Milliseconds")
    return [line for context in contexts.values() for line in LogSerializer.serialize(context)]


def _check_same_shape(ours: list[str], peer: list[str]) -> None:
    """Both must produce the same documents, or the comparison means nothing."""

    def normalise(lines: list[str]) -> list[tuple]:
        out = []
        for line in lines:
            doc = json.loads(line)
            [directive] = doc.pop("_aws")["CloudWatchMetrics"]
            out.append(
                (
                    doc["server"],
                    directive["Namespace"],
                    tuple(map(tuple, directive["Dimensions"])),
                    tuple(sorted(doc.items())),
                )
            )
        return sorted(out)

    if normalise(ours) != normalise(peer):
        raise AssertionError("our EMF documents differ from aws-embedded-metrics' for the same points")


def _paired_cpu_medians(ours: Callable[[], object], peer: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median CPU seconds (this thread's: time spent waiting for a core on a shared machine is left
    out) of each, run alternately, so that load that comes and goes weighs on both alike."""
    ours(), peer()  # warm-up: caches filled as in steady state
    ours_samples: list[float] = []
    peer_samples: list[float] = []
    for _ in range(repeat):
        for call, samples in ((ours, ours_samples), (peer, peer_samples)):
            started = time.thread_time()
            call()
            samples.append(time.thread_time() - started)
    return statistics.median(ours_samples), statistics.median(peer_samples)


def run(quick: bool) -> list[Figure]:
    points = _points()
    t_ns = time.time_ns()
    encoder, data = _ours(points, t_ns)
    timestamp = datetime.fromtimestamp(t_ns / 1e9, UTC)
    _check_same_shape([e.message for e in encoder.encode(data)], _peer_encode(points, timestamp))
    repeat = 15 if quick else 51
    ours_s, peer_s = _paired_cpu_medians(lambda: encoder.encode(data), lambda: _peer_encode(points, timestamp), repeat)
    ours_rate = len(points) / ours_s
    return [
        Figure(
            name="emf_encode_points_per_sec",
            value=ours_rate,
            unit="points/s",
            peer="aws-embedded-metrics",
            ratio=ours_rate / (len(points) / peer_s),
            target="ratio >= 3",
        )
    ]
