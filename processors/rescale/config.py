"""The `rescale` processor's settings: a factor, or a unit conversion from the table in common/actions/units.py."""

from __future__ import annotations

import math
from typing import Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from collector.component import ConfigModel
from common.actions.rescale import Scaler
from common.actions.units import conversion
from common.matching import NameRule


class RescaleRule(NameRule):
    """Either `factor` (optionally with `to_unit` to relabel), or `from_unit` + `to_unit` from the table."""

    factor: float | None = Field(None, gt=0, description="Multiply values by this.")
    from_unit: str | None = Field(None, description="Only metrics in this unit (or with no unit) are converted.")
    to_unit: str | None = Field(None, description="The metric's new unit.")

    @field_validator("factor")
    @classmethod
    def _finite(cls, factor: float | None) -> float | None:
        if factor is not None and not math.isfinite(factor):
            raise ValueError("must be a finite number")
        return factor

    @field_validator("to_unit")
    @classmethod
    def _convertible(cls, to_unit: str | None, info: ValidationInfo) -> str | None:
        from_unit = info.data.get("from_unit")
        if from_unit is not None and to_unit is not None:
            conversion(from_unit, to_unit)
        return to_unit

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if self.factor is not None and self.from_unit is not None:
            raise ValueError("give either factor or from_unit/to_unit, not both")
        if self.factor is None and (self.from_unit is None or self.to_unit is None):
            raise ValueError("give factor, or both from_unit and to_unit")
        return self

    def scaler(self) -> Scaler:
        factor = self.factor if self.factor is not None else conversion(self.from_unit, self.to_unit)  # type: ignore[arg-type]
        return Scaler(factor, self.to_unit)


class RescaleConfig(ConfigModel):
    rules: list[RescaleRule] = Field(min_length=1, description="Tried in order; the first match wins.")
