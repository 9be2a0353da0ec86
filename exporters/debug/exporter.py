from __future__ import annotations

import asyncio
import sys
from typing import Literal, TextIO

from opentelemetry.sdk.metrics.export import MetricsData

from collector.component import ConfigModel, Exporter, Factory, Kind, Stability
from collector.exporterhelper import QueueConfig, SendingConfig
from collector.metrics import count_points, iter_metrics


class DebugConfig(ConfigModel):
    verbosity: Literal["basic", "normal", "detailed"] = "basic"


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
    default_sending = SendingConfig(sending_queue=QueueConfig(num_consumers=1))
    stream: TextIO = sys.stderr

    async def export(self, data: MetricsData) -> None:
        text = render(data, self.config.verbosity)
        await asyncio.to_thread(self._write, text)

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


factory = Factory(
    type="debug",
    kind=Kind.EXPORTER,
    config_model=DebugConfig,
    create=DebugExporter,
    stability=Stability.BETA,
    description="Human-readable summary of each batch on stderr.",
)
