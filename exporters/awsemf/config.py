"""`awsemf` config: the Collector's awsemfexporter keys (see README.md for the deliberate differences)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from collector.component import DescribesCost
from collector.exporterhelper import SendingConfig
from common.aws.cardinality import CardinalityConfig
from common.aws.client import AwsConfig
from common.aws.delta import DeltaConfig
from exporters.awsemf.cost import describe_cost
from exporters.awsemf.format import EmfFormatConfig

MAX_TAGS = 50
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
# CloudWatch Logs retention values (days); 0 = never expire (the Collector's default).
RETENTION_DAYS = (0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)  # fmt: skip


def _tag_text(text: str) -> bool:
    """CloudWatch Logs' tag pattern: letters, numbers, whitespace and `_.:/=+-@`."""
    return all(c.isalnum() or c.isspace() or c in _TAG_PUNCTUATION for c in text)


def refuse_true(why: str) -> Callable[[bool], bool]:
    """A validator for a Collector key this design cannot honour: `false` (its default) is accepted."""

    def check(value: bool) -> bool:
        if value:
            raise ValueError(why)
        return value

    return check


class AwsEmfConfig(SendingConfig, AwsConfig, CardinalityConfig, DeltaConfig, EmfFormatConfig, DescribesCost):
    """Every `awsemf` key: the documents' (format.py), the sending queue's, the AWS session's, the series cap,
    the first delta, and where the documents go (CloudWatch Logs, stdout or a file)."""

    log_retention: int = Field(0, description="Days to keep a log group this exporter creates; 0 = forever.")
    output_destination: Literal["cloudwatch", "stdout", "file"] = "cloudwatch"
    file_path: str | None = Field(None, description="With output_destination: file, the file EMF lines go to.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags of a log group this exporter creates.")
    detailed_metrics: Annotated[
        bool,
        AfterValidator(
            refuse_true(
                "detailed_metrics changes how Summary metrics are sent; this collector has no Summary metrics "
                "(the OTLP receiver drops them, counted) and histograms are always sent with Values/Counts: "
                "remove the key"
            )
        ),
    ] = False
    eks_fargate_container_insights_enabled: Annotated[
        bool,
        AfterValidator(
            refuse_true(
                "reshapes the labels of Container Insights on EKS Fargate metrics, which this collector does not "
                "receive; rename labels with the attributes or metricstransform processor instead"
            )
        ),
    ] = False
    middleware: str | None = Field(None, description="The Collector's SDK-middleware extension: not available here.")

    @field_validator("middleware")
    @classmethod
    def _no_middleware(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "middleware names a Collector extension that wraps the AWS SDK's requests; this collector has no "
                "such extensions: use role_arn, profile or the SDK's credential chain for authentication"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        if len(tags) > MAX_TAGS:
            raise ValueError(f"{len(tags)} tags; CloudWatch Logs allows at most {MAX_TAGS}")
        for key, value in tags.items():
            if not 1 <= len(key) <= 128 or not _tag_text(key):
                raise ValueError(f"tag key {key!r}: 1-128 letters, numbers, spaces or _.:/=+-@")
            if len(value) > 256 or not _tag_text(value):
                raise ValueError(f"tag {key!r}: the value must be 0-256 letters, numbers, spaces or _.:/=+-@")
        return tags

    @field_validator("log_retention")
    @classmethod
    def _retention(cls, days: int) -> int:
        if days not in RETENTION_DAYS:
            raise ValueError(f"must be one of {', '.join(map(str, RETENTION_DAYS))}")
        return days

    @model_validator(mode="after")
    def _file_path_with_file(self) -> AwsEmfConfig:
        if self.output_destination == "file" and not self.file_path:
            raise ValueError("output_destination: file needs file_path")
        if self.file_path and self.output_destination != "file":
            raise ValueError("file_path is only used with output_destination: file")
        return self

    def describe_cost(self, metric_names: frozenset[str] | None) -> str:
        """`collector validate`'s hook (collector/costhints.py): custom metrics per target."""
        return describe_cost(self, metric_names)
