"""What `collector validate` says about cost: the custom metrics each billing exporter will create.

The core names no component; it asks optional hooks on the validated config models (documented in
docs/plugins.md):

- receiver: `known_metric_names() -> Collection[str] | None` — the metric names it emits, when the
  config determines them (None: not knowable before scraping a target);
- processor: `map_metric_names(names: frozenset[str]) -> frozenset[str] | None` — the names after it
  (None: not knowable); a processor without it is taken to keep names as they are;
- exporter: `describe_cost(metric_names: frozenset[str] | None) -> str | None` — one line of text, given
  the names its pipelines deliver (None when a receiver or processor on the way cannot tell).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collector.component import Kind
from collector.config import CollectorConfig


def _hook(config: CollectorConfig, kind: Kind, component_id: str, name: str) -> Callable[..., Any] | None:
    return getattr(config.component(kind, component_id).config, name, None)


def delivered_metric_names(config: CollectorConfig, exporter_id: str) -> frozenset[str] | None:
    """The metric names the pipelines feeding `exporter_id` deliver to it, or None when unknowable."""
    names: set[str] = set()
    for pipeline in config.service.pipelines.values():
        if exporter_id not in pipeline.exporters:
            continue
        pipeline_names: set[str] = set()
        for receiver_id in pipeline.receivers:
            hook = _hook(config, Kind.RECEIVER, receiver_id, "known_metric_names")
            listed = hook() if hook else None
            if listed is None:
                return None
            pipeline_names.update(listed)
        for processor_id in pipeline.processors:
            hook = _hook(config, Kind.PROCESSOR, processor_id, "map_metric_names")
            if hook is not None:
                mapped = hook(frozenset(pipeline_names))
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
        hook = _hook(config, Kind.EXPORTER, exporter_id, "describe_cost")
        text = hook(delivered_metric_names(config, exporter_id)) if hook else None
        if text:
            lines.append(f"{exporter_id}: {text}")
    return lines
