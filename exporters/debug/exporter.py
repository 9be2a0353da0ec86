from __future__ import annotations

import sys
from typing import TextIO

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import Exporter
from collector.executors import OwnedExecutor
from collector.metrics import count_points, iter_metrics


def render(data: MetricsData, verbosity: str) -> str:
    """basic: one line per batch; normal: plus one line per metric; detailed: plus every point."""
    metrics = list(iter_metrics(data))
    lines = [
        f"MetricsExporter: {len(data.resource_metrics)} resource metrics, {len(metrics)} metrics, "
        f"{count_points(data)} data points"
    ]
    if verbosity == "basic":
        return lines[0]
    for resource_metrics in data.resource_metrics:
        resource = dict(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = type(metric.data).__name__
                lines.append(
                    f"  {metric.name} ({kind}, unit {metric.unit or '-'}) "
                    f"{len(metric.data.data_points)} points, resource {resource}"
                )
                if verbosity == "detailed":
                    lines.extend(f"    {_point(point)}" for point in metric.data.data_points)
    return "\n".join(lines)


def _point(point: object) -> str:
    attributes = dict(getattr(point, "attributes", None) or {})
    value = getattr(point, "value", None)
    if value is None:
        value = f"count={getattr(point, 'count', '?')} sum={getattr(point, 'sum', '?')}"
    return f"{attributes} {value} @ {getattr(point, 'time_unix_nano', 0)}"


class DebugExporter(Exporter):
    """Renders and writes on its own thread: a detailed render of a large batch is seconds of CPU, and a
    blocked stderr (a full pipe) must stall only this exporter."""

    stream: TextIO = sys.stderr

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._output = OwnedExecutor(f"debug-{self.id}")

    async def export(self, data: MetricsData) -> None:
        await self._output.run(self._write, data)

    def _write(self, data: MetricsData) -> None:
        self.stream.write(render(data, self.config.verbosity) + "\n")
        self.stream.flush()

    async def shutdown(self) -> None:
        self._output.shutdown()
