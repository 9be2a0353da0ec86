"""The `debug` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ExporterFactory, Stability
from collector.exporterhelper import QueueConfig, SendingConfig, fixed_sending
from exporters.debug.config import DebugConfig
from exporters.debug.exporter import DebugExporter

SENDING = SendingConfig(sending_queue=QueueConfig(num_consumers=1))
"""One consumer: batches are rendered in the order they arrived."""

factory = ExporterFactory(
    type="debug",
    config_model=DebugConfig,
    create=DebugExporter,
    sending=fixed_sending(SENDING),
    stability=Stability.BETA,
    description="Human-readable summary of each batch on stderr.",
)
