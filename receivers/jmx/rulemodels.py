"""The OpenTelemetry Java instrumentation's jmx-metrics rule format (so rule files written for it load
unchanged), as pydantic models with their checks. Its own module because both the receiver's config (which
holds rules) and the rule compiler (rules.py, which reads them) need it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from collector.component import ConfigModel

MetricType = Literal["gauge", "counter", "updowncounter", "state"]
_EXPRESSION = re.compile(r"^(?:(lowercase)\((.*)\)|(param|beanattr|const|domain)\((.*)\))$", re.DOTALL)
_DEFAULT_STATE = "*"

# The conversions the jmx-metrics format documents (sourceUnit -> unit), plus the obvious inverses.
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("ms", "s"): 1e-3,
    ("us", "s"): 1e-6,
    ("ns", "s"): 1e-9,
    ("s", "ms"): 1e3,
    ("ns", "ms"): 1e-6,
}


def _lowercase_type(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def check_expression(text: str) -> str:
    """`param(key)`, `beanattr(Attr)`, `const(value)`, `domain(prefix)` (this collector's: the ObjectName's
    domain without `prefix`), or `lowercase(...)` around one of them."""
    match = _EXPRESSION.match(text.strip())
    if not match:
        raise ValueError(
            f"{text!r} is not param(<key>), beanattr(<attribute>), const(<value>), domain(<prefix>) or lowercase(...)"
        )
    if match.group(1):
        check_expression(match.group(2))
    elif match.group(3) not in ("const", "domain") and not match.group(4).strip():
        raise ValueError(f"{text!r}: the name inside {match.group(3)}() is empty")
    return text.strip()


StateMap = dict[str, str | list[str]]
"""A `state` metric's attribute: state name -> the MBean value(s) meaning it; `'*'` is the default."""


def _check_metric_attributes(attributes: dict[str, str | StateMap]) -> dict[str, str | StateMap]:
    for value in attributes.values():
        if isinstance(value, str):
            check_expression(value)
    return attributes


MetricAttributes = Annotated[
    dict[str, str | StateMap],
    AfterValidator(_check_metric_attributes),
    Field(description="Point attributes: param(<ObjectName key>), beanattr(<attribute>), const(<value>)."),
]


ALL_OTHER_ATTRIBUTES = "*"
"""A mapping key (this collector's): every numeric attribute of the MBean no other mapping of the rule names."""


class Mapping(ConfigModel):
    """How one MBean attribute (`Attr`, `Attr.item` for CompositeData, `Attr.length` for arrays) becomes a
    metric. Keys as in jmx-metrics; `missingValue` and `keyAttribute` are this collector's additions."""

    metric: str | None = None
    type: Annotated[MetricType | None, BeforeValidator(_lowercase_type)] = None
    unit: str | None = None
    sourceUnit: str | None = None
    desc: str | None = None
    metricAttribute: MetricAttributes = Field(default_factory=dict)
    missingValue: float | None = Field(
        None, description="A value the source reports for 'not available' (Debezium's -1): no point is emitted."
    )
    keyAttribute: str | None = Field(
        None, description="Attribute naming the key of a TabularData / Map value (default `key`)."
    )


class Rule(ConfigModel):
    """One jmx-metrics rule: MBeans (`bean` or `beans`), shared settings, and the attribute mappings."""

    bean: str | None = None
    beans: list[str] | None = None
    prefix: str = ""
    unit: str | None = None
    sourceUnit: str | None = None
    type: Annotated[MetricType | None, BeforeValidator(_lowercase_type)] = None
    metricAttribute: MetricAttributes = Field(default_factory=dict)
    missingValue: float | None = None
    keyAttribute: str | None = None
    wildcardParams: bool = Field(
        False, description="Every ObjectName key matched by a wildcard also becomes a point attribute."
    )
    mapping: dict[str, Mapping | None] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Rule:
        if bool(self.bean) == bool(self.beans):
            raise ValueError("give exactly one of `bean` (one ObjectName pattern) or `beans` (a list)")
        for pattern in self.patterns:
            if ":" not in pattern or "\t" in pattern or "\n" in pattern:
                raise ValueError(f"{pattern!r} is not an ObjectName pattern like `domain:key=value,*`")
        for attribute, mapping in self.mapping.items():
            effective = mapping or Mapping()
            if attribute == ALL_OTHER_ATTRIBUTES and (effective.type == "state" or effective.metric):
                raise ValueError(f"mapping '{ALL_OTHER_ATTRIBUTES}' (every other attribute) takes no `metric` or state")
            source, unit = effective.sourceUnit or self.sourceUnit, effective.unit or self.unit
            if source and source != unit and (source, unit) not in UNIT_FACTORS:
                known = ", ".join(f"{a}->{b}" for a, b in UNIT_FACTORS)
                raise ValueError(f"mapping {attribute}: no conversion from {source!r} to {unit!r} (known: {known})")
            if (effective.type or self.type) == "state":
                _check_state(attribute, {**self.metricAttribute, **effective.metricAttribute})
        return self

    @property
    def patterns(self) -> list[str]:
        return [self.bean] if self.bean else list(self.beans or [])


def _check_state(attribute: str, attributes: dict[str, str | StateMap]) -> None:
    states = [value for value in attributes.values() if isinstance(value, dict)]
    if len(states) != 1:
        raise ValueError(f"mapping {attribute}: a state metric needs exactly one metricAttribute state map")
    defaults = [name for name, values in states[0].items() if _DEFAULT_STATE in as_list(values)]
    if len(defaults) != 1:
        raise ValueError(f"mapping {attribute}: the state map needs exactly one '*' (the default state)")


def as_list(values: str | list[str]) -> list[str]:
    return [values] if isinstance(values, str) else list(values)


class RuleFile(ConfigModel):
    rules: list[Rule]


class PresetBundle(ConfigModel):
    """Several presets in one file, so that they share YAML anchors (the Debezium connectors); the file's
    other top-level keys (`x-...`) only hold those anchors."""

    presets: dict[str, RuleFile]
