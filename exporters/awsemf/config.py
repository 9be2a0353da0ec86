"""`awsemf` config: the Collector's awsemfexporter keys (see README.md for the deliberate differences)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from collector.component import ConfigModel
from collector.config import did_you_mean
from collector.exporterhelper import SendingConfig
from common.aws.cardinality import CardinalityConfig
from common.aws.client import AwsConfig
from common.aws.delta import DeltaConfig
from common.aws.names import MAX_DIMENSION_NAME, MAX_DIMENSIONS, dimension_name_ok
from common.aws.units import CLOUDWATCH_UNITS

ROLLUP_OPTIONS = ("NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup")
# Accepted before this exporter took the Collector's spelling; kept so existing configs load.
ROLLUP_ALIASES = {"SingleDimensionRollup": "SingleDimensionRollupOnly"}
RollupOption = Literal["NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup"]
MAX_TAGS = 50
_TAG_PUNCTUATION = frozenset("_.:/=+-@")
# CloudWatch Logs retention values (days); 0 = never expire (the Collector's default).
RETENTION_DAYS = (0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)  # fmt: skip


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return pattern


class LabelMatcher(ConfigModel):
    """Matches when the values of `label_names`, joined by `separator`, match `regex` (searched)."""

    label_names: list[str] = Field(min_length=1)
    separator: str = ";"
    regex: str

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, regex: str) -> str:
        return _compiles(regex)


class MetricDeclaration(ConfigModel):
    """Which metrics become CloudWatch metrics, and with which dimension sets."""

    dimensions: list[list[str]] = Field(default_factory=list)
    metric_name_selectors: list[str] = Field(min_length=1)
    label_matchers: list[LabelMatcher] = Field(default_factory=list)

    @field_validator("metric_name_selectors")
    @classmethod
    def _selectors_compile(cls, selectors: list[str]) -> list[str]:
        return [_compiles(s) for s in selectors]

    @field_validator("dimensions")
    @classmethod
    def _dimension_sets(cls, sets: list[list[str]]) -> list[list[str]]:
        for dims in sets:
            if len(dims) > MAX_DIMENSIONS:
                raise ValueError(f"a dimension set has {len(dims)} keys; CloudWatch allows at most {MAX_DIMENSIONS}")
            for name in dims:
                if not dimension_name_ok(name):
                    raise ValueError(
                        f"{name!r} is not a dimension name CloudWatch accepts (1-{MAX_DIMENSION_NAME} printable "
                        "ASCII characters, not blank, not starting with ':')"
                    )
        return sets


class MetricDescriptor(ConfigModel):
    metric_name: str = Field(min_length=1)
    unit: str
    overwrite: bool = Field(False, description="Replace the unit the metric carries, not only a missing one.")

    @field_validator("unit")
    @classmethod
    def _cloudwatch_unit(cls, unit: str) -> str:
        if unit not in CLOUDWATCH_UNITS:
            raise ValueError(f"{unit!r} is not a CloudWatch unit ({', '.join(sorted(CLOUDWATCH_UNITS))})")
        return unit


class ResourceToTelemetryConversion(ConfigModel):
    enabled: bool = Field(False, description="Copy resource attributes onto every point (they become labels).")


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


class AwsEmfConfig(SendingConfig, AwsConfig, CardinalityConfig, DeltaConfig):
    namespace: str = Field("default", min_length=1, max_length=255, pattern=r"^[^:]")
    log_group_name: str = Field("/metrics/default", min_length=1, max_length=512)
    log_stream_name: str = Field("otel-stream", min_length=1, max_length=512)
    log_retention: int = Field(0, description="Days to keep a log group this exporter creates; 0 = forever.")
    output_destination: Literal["cloudwatch", "stdout", "file"] = "cloudwatch"
    file_path: str | None = Field(None, description="With output_destination: file, the file EMF lines go to.")
    dimension_rollup_option: RollupOption = "NoDimensionRollup"
    metric_declarations: list[MetricDeclaration] = Field(default_factory=list)
    metric_descriptors: list[MetricDescriptor] = Field(default_factory=list)
    resource_to_telemetry_conversion: ResourceToTelemetryConversion = ResourceToTelemetryConversion()
    storage_resolution: Literal[1, 60] = 60
    version: Literal["0", "1"] = Field(
        "1", description='"1": EMF with the _aws metadata; "0": the older form without it, as the Collector writes'
    )
    disable_metric_extraction: bool = Field(
        False, description="Write the log events without the metric directives: no CloudWatch metric at all."
    )
    parse_json_encoded_attr_values: list[str] = Field(
        default_factory=list,
        description="Labels whose values are JSON text, written as JSON structures (never dimensions then).",
    )
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

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("dimension_rollup_option", mode="before")
    @classmethod
    def _rollup(cls, value: object) -> object:
        if isinstance(value, str) and value not in ROLLUP_OPTIONS:
            if value in ROLLUP_ALIASES:
                return ROLLUP_ALIASES[value]
            hint = did_you_mean(value, ROLLUP_OPTIONS)
            raise ValueError(f"must be one of {', '.join(ROLLUP_OPTIONS)}, not {value!r}{hint}")
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
        from exporters.awsemf.cost import describe_cost  # cost imports the encoder, which imports this module

        return describe_cost(self, metric_names)
