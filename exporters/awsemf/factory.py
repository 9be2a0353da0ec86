"""The `awsemf` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ExporterFactory, Stability
from collector.exporterhelper import sending_from_config
from exporters.awsemf.config import AwsEmfConfig
from exporters.awsemf.exporter import AwsEmfExporter

factory = ExporterFactory(
    type="awsemf",
    config_model=AwsEmfConfig,
    create=AwsEmfExporter,
    sending=sending_from_config,
    stability=Stability.ALPHA,
    description="CloudWatch Embedded Metric Format to CloudWatch Logs (PutLogEvents), stdout or a file.",
)
