"""What `collector validate` says about cost: the custom metrics each billing exporter will create.

The core names no component; it asks the config models that declare the cost hooks of
`collector.component` (documented in docs/plugins.md): a receiver's `KnowsMetricNames`, a processor's
`MapsMetricNames`, an exporter's `DescribesCost`.
"""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel

from collector.component import DescribesCost, Kind, KnowsMetricNames, MapsMetricNames
from collector.serviceconfig import CollectorConfig


def _config(config: CollectorConfig, kind: Kind, component_id: str) -> BaseModel:
    return config.component(kind, component_id).config


def _known_names(model: BaseModel) -> Collection[str] | None:
    return model.known_metric_names() if isinstance(model, KnowsMetricNames) else None


def _mapped_names(model: BaseModel, names: frozenset[str]) -> frozenset[str] | None:
    return model.map_metric_names(names) if isinstance(model, MapsMetricNames) else names


def delivered_metric_names(config: CollectorConfig, exporter_id: str) -> frozenset[str] | None:
    """The metric names the pipelines feeding `exporter_id` deliver to it, or None when unknowable."""
    names: set[str] = set()
    for pipeline in config.service.pipelines.values():
        if exporter_id not in pipeline.exporters:
            continue
        pipeline_names: set[str] = set()
        for receiver_id in pipeline.receivers:
            listed = _known_names(_config(config, Kind.RECEIVER, receiver_id))
            if listed is None:
                return None
            pipeline_names.update(listed)
        for processor_id in pipeline.processors:
            mapped = _mapped_names(_config(config, Kind.PROCESSOR, processor_id), frozenset(pipeline_names))
            if mapped is None:
                return None
            pipeline_names = set(mapped)
        names |= pipeline_names
    return frozenset(names)


def cost_lines(config: CollectorConfig) -> list[str]:
    """`<exporter id>: <what its describe_cost hook says>` for every exporter used in a pipeline."""
    used = {e for pipeline in config.service.pipelines.values() for e in pipeline.exporters}
    lines = []
    for exporter_id in sorted(used):
        model = _config(config, Kind.EXPORTER, exporter_id)
        if not isinstance(model, DescribesCost):
            continue
        text = model.describe_cost(delivered_metric_names(config, exporter_id))
        if text:
            lines.append(f"{exporter_id}: {text}")
    return lines
