"""The `awscloudwatch` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from exporters.awscloudwatch.config import AwsCloudWatchConfig
from exporters.awscloudwatch.exporter import AwsCloudWatchExporter

factory = Factory(
    type="awscloudwatch",
    kind=Kind.EXPORTER,
    config_model=AwsCloudWatchConfig,
    create=AwsCloudWatchExporter,
    stability=Stability.ALPHA,
    description="CloudWatch metrics through PutMetricData (the reference sample's API).",
)
