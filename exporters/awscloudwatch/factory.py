"""The `awscloudwatch` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ExporterFactory, Stability
from collector.exporterhelper import sending_from_config
from exporters.awscloudwatch.config import AwsCloudWatchConfig
from exporters.awscloudwatch.exporter import AwsCloudWatchExporter

factory = ExporterFactory(
    type="awscloudwatch",
    config_model=AwsCloudWatchConfig,
    create=AwsCloudWatchExporter,
    sending=sending_from_config,
    stability=Stability.ALPHA,
    description="CloudWatch metrics through PutMetricData (the reference sample's API).",
)
