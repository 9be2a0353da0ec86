from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from collector.component import ConfigModel, DescribesCost
from collector.exporterhelper import SendingConfig
from common.aws.cardinality import UNKNOWN, CardinalityConfig, per_target
from common.aws.client import AwsConfig
from common.aws.delta import DeltaConfig
from common.aws.names import MAX_DIMENSION_NAME, dimension_name_ok


class DimensionRule(ConfigModel):
    """A point attribute that becomes a dimension, optionally under another name."""

    attribute: str = Field(min_length=1)
    name: str | None = Field(None, description="Dimension name; default: attribute.")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: object) -> object:
        return {"attribute": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _accepted_name(self) -> DimensionRule:
        if not dimension_name_ok(self.dimension):
            raise ValueError(
                f"{self.dimension!r} is not a dimension name CloudWatch accepts (1-{MAX_DIMENSION_NAME} printable "
                "ASCII characters, not blank, not starting with ':')"
            )
        return self

    @property
    def dimension(self) -> str:
        return self.name or self.attribute


class AwsCloudWatchConfig(SendingConfig, AwsConfig, CardinalityConfig, DeltaConfig, DescribesCost):
    namespace: str = Field(min_length=1, max_length=255, pattern=r"^[^:]")
    dimensions: list[DimensionRule] | None = Field(
        None,
        max_length=30,
        description="Attributes that become dimensions (`server` or {attribute: server, name: DBServerName}); "
        "default: every point attribute. A point missing one of them is sent without that dimension.",
    )
    storage_resolution: Literal[1, 60] = 60

    @field_validator("namespace")
    @classmethod
    def _not_aws(cls, namespace: str) -> str:
        if namespace.startswith("AWS/"):
            raise ValueError("namespaces starting with AWS/ are reserved for AWS services")
        return namespace

    @field_validator("dimensions")
    @classmethod
    def _unique(cls, rules: list[DimensionRule] | None) -> list[DimensionRule] | None:
        names = [r.dimension for r in rules or []]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"dimension names must be unique: {', '.join(duplicates)}")
        return rules

    def describe_cost(self, metric_names: frozenset[str] | None) -> str:
        """`collector validate`'s hook (collector/costhints.py): every metric delivered is at least one
        custom metric per distinct set of dimension values."""
        if metric_names is None:
            return UNKNOWN + (
                "every metric the pipelines deliver becomes custom metrics, and their receivers do not "
                "list their metric names"
            )
        if self.dimensions is None:
            return per_target(len(metric_names), "every point attribute (all become dimensions)")
        return per_target(len(metric_names), ", ".join(r.dimension for r in self.dimensions))
