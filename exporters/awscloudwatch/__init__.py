"""`awscloudwatch` exporter: CloudWatch PutMetricData, the reference Java sample's API (see README.md)."""

from exporters.awscloudwatch.config import AwsCloudWatchConfig
from exporters.awscloudwatch.factory import factory

__all__ = ["AwsCloudWatchConfig", "factory"]
