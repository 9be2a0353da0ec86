"""The `rename` processor's settings: rules of `include`/`match_type`/`new_name`, first match wins."""

from __future__ import annotations

from pydantic import Field, field_validator

from collector.component import ConfigModel, MapsMetricNames
from common.actions.rename import Renamer
from common.matching import NameRule, check_new_name


class RenameRule(NameRule):
    new_name: str = Field(min_length=1, description="Regexp rules may use $1, ${1} or ${name} (write $$ in YAML).")

    _check_new_name = field_validator("new_name")(check_new_name)


class RenameConfig(ConfigModel, MapsMetricNames):
    rules: list[RenameRule] = Field(min_length=1, description="Tried in order; the first match wins.")

    def renamer(self) -> Renamer:
        return Renamer([(rule.name_pattern(), rule.new_name) for rule in self.rules])

    def map_metric_names(self, names: frozenset[str]) -> frozenset[str]:
        """`collector validate`'s hook (collector/costhints.py): the names after renaming."""
        renamer = self.renamer()
        return frozenset(renamer.new_name(name) or name for name in names)
