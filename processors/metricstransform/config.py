"""The `metricstransform` processor's settings (the Collector's keys; aggregation refused with reasons), and each
transform compiled to the shared actions in common/actions/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, Self

from opentelemetry.sdk.metrics.export import Metric
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from collector.component import ConfigModel, MapsMetricNames
from collector.configtypes import Refused
from common.actions.attributes import AttributeAction, rename_edit, value_map_edit
from common.actions.rename import Renamer
from common.actions.rescale import Scaler
from common.matching import NamePattern, NameRule, check_new_name
from common.points import edit_attributes, keep_points

MetricEdit = Callable[[Metric], Metric]


class ValueAction(ConfigModel):
    value: str
    new_value: str


_AGGREGATION = "aggregation is not supported here: aggregate in the backend (CloudWatch statistics, PromQL)"
_UNSUPPORTED_ACTIONS = {
    "aggregate_labels": _AGGREGATION,
    "aggregate_label_values": _AGGREGATION,
    "combine": _AGGREGATION,
    "group": "regrouping resources is not supported: every metric keeps its resource",
    "toggle_scalar_data_type": "values keep the type they arrived with; exporters write numbers either way",
}


def _supported_action(action: Any) -> Any:
    if action in _UNSUPPORTED_ACTIONS:
        raise ValueError(f"action {action!r} is not supported: {_UNSUPPORTED_ACTIONS[action]}")
    return action


class Operation(ConfigModel):
    """The Collector's operation keys; the aggregation and type-toggling operations are refused with reasons."""

    action: Annotated[
        Literal["add_label", "update_label", "delete_label_value", "experimental_scale_value"],
        BeforeValidator(_supported_action),
    ]
    label: str | None = Field(None, min_length=1)
    new_label: str | None = Field(None, min_length=1)
    new_value: str | None = None
    label_value: str | None = None
    value_actions: list[ValueAction] = Field(default_factory=list)
    experimental_scale: float | None = Field(None, gt=0)
    label_set: Annotated[Any, Refused(_AGGREGATION)] = None
    aggregation_type: Annotated[Any, Refused(_AGGREGATION)] = None
    aggregated_values: Annotated[Any, Refused(_AGGREGATION)] = None

    @model_validator(mode="after")
    def _required_keys(self) -> Self:
        needs = {
            "add_label": ("new_label and new_value", self.new_label and self.new_value is not None),
            "update_label": (
                "label, and new_label or value_actions",
                self.label and (self.new_label or self.value_actions),
            ),
            "delete_label_value": ("label and label_value", self.label and self.label_value is not None),
            "experimental_scale_value": ("experimental_scale", self.experimental_scale is not None),
        }
        what, ok = needs[self.action]
        if not ok:
            raise ValueError(f"operation {self.action!r} needs {what}")
        return self

    def compile(self) -> MetricEdit:
        """The same code the attributes, filter and rescale processors run."""
        if self.action == "add_label":
            edit = AttributeAction(key=self.new_label, action="upsert", value=self.new_value).compile()
            return lambda metric: edit_attributes(metric, [edit])
        if self.action == "update_label":
            label = self.label or ""
            edits = [value_map_edit(label, {v.value: v.new_value for v in self.value_actions})]
            if self.new_label:
                edits.append(rename_edit(label, self.new_label))
            return lambda metric: edit_attributes(metric, edits)
        if self.action == "delete_label_value":
            label, doomed = self.label, self.label_value
            return lambda metric: keep_points(metric, lambda attrs: attrs.get(label) != doomed)
        scaler = Scaler(self.experimental_scale or 1.0)
        return scaler.apply


class Transform(NameRule):
    action: Annotated[Literal["update", "insert"], BeforeValidator(_supported_action)] = Field(
        description="update in place, or insert a changed copy."
    )
    new_name: str | None = Field(None, min_length=1, description="Required for insert.")
    operations: list[Operation] = Field(default_factory=list)
    aggregation_type: Annotated[Any, Refused(_AGGREGATION)] = None
    group_resource_labels: Annotated[Any, Refused(_UNSUPPORTED_ACTIONS["group"])] = None
    submatch_case: Annotated[Any, Refused("new names keep the case of what the pattern captured")] = None
    experimental_match_labels: Annotated[
        Any, Refused("select points with the filter processor's attributes instead")
    ] = None
    metric_name: Annotated[Any, Refused("removed from the Collector: use include")] = None

    @field_validator("new_name")
    @classmethod
    def _valid_new_name(cls, new_name: str | None, info: ValidationInfo) -> str | None:
        return None if new_name is None else check_new_name(new_name, info)

    @model_validator(mode="after")
    def _insert_needs_name(self) -> Self:
        if self.action == "insert" and self.new_name is None:
            raise ValueError("action 'insert' needs new_name")
        return self


class MetricsTransformConfig(ConfigModel, MapsMetricNames):
    transforms: list[Transform] = Field(min_length=1, description="Applied in order, each to the result so far.")

    def map_metric_names(self, names: frozenset[str]) -> frozenset[str]:
        """`collector validate`'s hook (collector/costhints.py): the names after every transform."""
        for transform in map(CompiledTransform, self.transforms):
            if transform.renamer is None:
                continue
            renamed = {name: transform.renamer.new_name(name) for name in names}
            new_names = {new for new in renamed.values() if new}
            kept = names if transform.insert else frozenset(n for n, new in renamed.items() if not new)
            names = kept | new_names
        return names


class CompiledTransform:
    """A transform ready to run: its name pattern, renamer and operations compiled once, used by the
    processor and by `MetricsTransformConfig.map_metric_names` alike."""

    def __init__(self, transform: Transform) -> None:
        self.pattern: NamePattern = transform.name_pattern()
        self.insert = transform.action == "insert"
        self.renamer = Renamer([(self.pattern, transform.new_name)]) if transform.new_name else None
        self.edits = [op.compile() for op in transform.operations]
