"""`awsemf` exporter: CloudWatch Embedded Metric Format (see README.md)."""

from exporters.awsemf.config import AwsEmfConfig
from exporters.awsemf.exporter import AwsEmfExporter, factory

__all__ = ["AwsEmfConfig", "AwsEmfExporter", "factory"]
