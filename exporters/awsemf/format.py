"""The `awsemf` keys that shape the EMF documents: what the encoder (and the cost hint, which runs the
encoder) reads. Apart from config.py, which adds the sending and CloudWatch Logs keys and the cost hook on
top, so that the encoder and the cost hint need not import the module that calls them."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from collector.component import ConfigModel
from collector.config import did_you_mean
from common.aws.names import MAX_DIMENSION_NAME, MAX_DIMENSIONS, dimension_name_ok
from common.aws.units import CLOUDWATCH_UNITS

ROLLUP_OPTIONS = ("NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup")
# Accepted before this exporter took the Collector's spelling; kept so existing configs load.
ROLLUP_ALIASES = {"SingleDimensionRollup": "SingleDimensionRollupOnly"}
RollupOption = Literal["NoDimensionRollup", "SingleDimensionRollupOnly", "ZeroAndSingleDimensionRollup"]


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


class EmfFormatConfig(ConfigModel):
    """Namespace, log group and stream, which metrics get which dimensions, units, EMF version."""

    namespace: str = Field("default", min_length=1, max_length=255, pattern=r"^[^:]")
    log_group_name: str = Field("/metrics/default", min_length=1, max_length=512)
    log_stream_name: str = Field("otel-stream", min_length=1, max_length=512)
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
