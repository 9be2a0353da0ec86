"""What `collector validate` says about cost: the custom metrics each billing exporter will create.

The core names no component; it asks the config models that declare the cost hooks of
`collector.component` (documented in docs/plugins.md): a receiver's `KnowsMetricNames`, a processor's
`MapsMetricNames`, an exporter's `DescribesCost`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from pydantic import BaseModel

from collector.component import DescribesCost, Kind, KnowsMetricNames, MapsMetricNames
from collector.serviceconfig import CollectorConfig


def _config(config: CollectorConfig, kind: Kind, component_id: str) -> BaseModel:
    return config.component(kind, component_id).config


def _known_names(model: BaseModel) -> Collection[str] | None:
    if isinstance(model, KnowsMetricNames):
        return model.known_metric_names()
    legacy: Callable[[], Collection[str] | None] | None = getattr(model, "known_metric_names", None)  # TRANSITION
    return legacy() if legacy else None


def _mapped_names(model: BaseModel, names: frozenset[str]) -> frozenset[str] | None:
    if isinstance(model, MapsMetricNames):
        return model.map_metric_names(names)
    legacy: Callable[[frozenset[str]], frozenset[str] | None] | None = getattr(model, "map_metric_names", None)
    return legacy(names) if legacy else names  # TRANSITION


def _cost_hook(model: BaseModel) -> Callable[[frozenset[str] | None], str | None] | None:
    if isinstance(model, DescribesCost):
        return model.describe_cost
    legacy: Callable[[frozenset[str] | None], str | None] | None = getattr(model, "describe_cost", None)
    return legacy  # TRANSITION


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
        describe = _cost_hook(_config(config, Kind.EXPORTER, exporter_id))
        text = describe(delivered_metric_names(config, exporter_id)) if describe else None
        if text:
            lines.append(f"{exporter_id}: {text}")
    return lines
