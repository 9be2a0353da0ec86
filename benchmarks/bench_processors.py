"""Points per second on one core through rename + rescale + attributes (the processors' pure `process`,
chained as the pipeline chains them, on Debezium-shaped batches), alone and followed by the awsemf
exporter's EMF encoding (`pipeline_points_per_sec`: everything but the write to stdout)."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry.sdk.metrics.export import Gauge, Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from benchmarks.figures import Figure, median_seconds
from collector.component import ComponentID, CreateSettings, Factory, Kind, SimpleProcessor
from collector.logs import component_logger
from collector.metrics import count_points
from collector.telemetry import Telemetry
from exporters.awsemf.config import AwsEmfConfig
from exporters.awsemf.encoder import encoder_for
from processors.attributes import factory as attributes
from processors.rename import factory as rename
from processors.rescale import factory as rescale

FIGURES = ("pipeline_points_per_sec", "pipeline_processors_points_per_sec")

CONFIGS: list[tuple[Factory[Any], dict[str, Any]]] = [
    (
        rename,
        {"rules": [{"include": r"^debezium\.streaming\.(.*)$", "match_type": "regexp", "new_name": "cdc.$1"}]},
    ),
    (rescale, {"rules": [{"include": r"MilliSeconds", "match_type": "regexp", "from_unit": "ms", "to_unit": "s"}]}),
    (attributes, {"actions": [{"key": "DBServerName", "from_attribute": "server", "action": "rename"}]}),
]


def workload(metrics: int = 50, servers: int = 100) -> MetricsData:
    """`metrics` metric names x `servers` connectors: a central collector scraping many Connect workers."""
    built = []
    for i in range(metrics):
        name = f"debezium.streaming.MilliSecondsBehindSource{i}" if i % 2 else f"debezium.streaming.Events{i}"
        points = [
            NumberDataPoint({"server": f"db{s}", "context": "streaming"}, 0, 1_700_000_000_000_000_000, 1500 + s)
            for s in range(servers)
        ]
        built.append(Metric(name, "", "ms" if i % 2 else "{event}", Gauge(points)))
    scope = ScopeMetrics(InstrumentationScope("bench"), built, "")
    return MetricsData([ResourceMetrics(Resource({"service.name": "bench"}), [scope], "")])


def chain() -> list[SimpleProcessor[Any]]:
    telemetry = Telemetry()
    processors: list[SimpleProcessor[Any]] = []
    for factory, config in CONFIGS:
        cid = ComponentID(factory.type, "bench")
        settings = CreateSettings(cid, Kind.PROCESSOR, telemetry, component_logger("processor", str(cid)))
        processor = factory.create(settings, factory.config_model.model_validate(config), None)
        assert isinstance(processor, SimpleProcessor)  # its `process` is what is timed, never forwarding
        processors.append(processor)
    return processors


def run(quick: bool) -> list[Figure]:
    data = workload()
    points = count_points(data)
    processors = chain()
    config = AwsEmfConfig(namespace="Debezium", output_destination="stdout")
    encoder = encoder_for(config, lambda reason, n: None, logging.getLogger("bench"))

    def processed() -> MetricsData:
        out = data
        for processor in processors:
            result = processor.process(out)
            assert result is not None, f"{processor.id} dropped the batch"
            out = result
        assert count_points(out) == points
        return out

    def encoded() -> None:
        events = encoder.encode(processed())
        assert events

    repeat = 5 if quick else 25
    processors_s = median_seconds(processed, repeat=repeat, warmup=2)
    pipeline_s = median_seconds(encoded, repeat=repeat, warmup=2)
    return [
        Figure("pipeline_points_per_sec", points / pipeline_s, "points/s", target=">= 200000"),
        Figure("pipeline_processors_points_per_sec", points / processors_s, "points/s"),
    ]
