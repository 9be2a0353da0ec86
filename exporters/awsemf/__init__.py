"""`awsemf` exporter: CloudWatch Embedded Metric Format (see README.md)."""

from exporters.awsemf.config import AwsEmfConfig
from exporters.awsemf.factory import factory

__all__ = ["AwsEmfConfig", "factory"]
