"""The `attributes` processor's settings: the actions (common/actions/attributes.py) and which metrics they touch."""

from __future__ import annotations

from pydantic import Field

from collector.component import ConfigModel
from common.actions.attributes import AttributeAction
from common.matching import MatchProperties


class AttributesConfig(ConfigModel):
    actions: list[AttributeAction] = Field(min_length=1, description="Applied in order to each data point.")
    include: MatchProperties | None = Field(None, description="Only matching metrics/points are changed.")
    exclude: MatchProperties | None = Field(None, description="Matching metrics/points are left alone.")
