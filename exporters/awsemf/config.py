"""`awsemf` config: the Collector's awsemfexporter keys (see README.md for the deliberate differences)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel
from collector.exporterhelper import SendingConfig
from exporters.awscommon.cardinality import CardinalityConfig
from exporters.awscommon.client import AwsConfig
from exporters.awscommon.units import CLOUDWATCH_UNITS

RollupOption = Literal["NoDimensionRollup", "SingleDimensionRollup", "ZeroAndSingleDimensionRollup"]
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
            if len(dims) > 30:
                raise ValueError(f"a dimension set has {len(dims)} keys; CloudWatch allows at most 30")
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


class AwsEmfConfig(SendingConfig, AwsConfig, CardinalityConfig):
    namespace: str = Field("default", min_length=1, max_length=1024)
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
