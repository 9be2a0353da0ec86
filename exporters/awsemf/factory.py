"""The `awsemf` exporter: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from exporters.awsemf.config import AwsEmfConfig
from exporters.awsemf.exporter import AwsEmfExporter

factory = Factory(
    type="awsemf",
    kind=Kind.EXPORTER,
    config_model=AwsEmfConfig,
    create=AwsEmfExporter,
    stability=Stability.ALPHA,
    description="CloudWatch Embedded Metric Format to CloudWatch Logs (PutLogEvents), stdout or a file.",
)
