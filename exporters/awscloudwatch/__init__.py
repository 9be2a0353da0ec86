"""`awscloudwatch` exporter: CloudWatch PutMetricData, the reference Java sample's API (see README.md)."""

from exporters.awscloudwatch.config import AwsCloudWatchConfig, DimensionRule
from exporters.awscloudwatch.exporter import AwsCloudWatchExporter, factory

__all__ = ["AwsCloudWatchConfig", "AwsCloudWatchExporter", "DimensionRule", "factory"]
