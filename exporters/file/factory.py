"""The `file` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ExporterFactory, Stability
from collector.exporterhelper import BatchSizeConfig, QueueConfig, SendingConfig, fixed_sending
from exporters.file.config import FileConfig
from exporters.file.exporter import FileExporter

SENDING = SendingConfig(
    sending_queue=QueueConfig(num_consumers=1, batch=BatchSizeConfig(sizer="items", max_size=10_000))
)
"""One consumer keeps lines in arrival order; batches above 10,000 points are written as several lines,
so no single write outlives the timeout."""

factory = ExporterFactory(
    type="file",
    config_model=FileConfig,
    create=FileExporter,
    sending=fixed_sending(SENDING),
    stability=Stability.BETA,
    description="OTLP/JSON lines to a file, with optional size-based rotation.",
)
