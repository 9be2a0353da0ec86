"""MetricsData -> CloudWatch Embedded Metric Format documents, within every CloudWatch limit.

Points sharing a log group/stream, labels and millisecond timestamp go into one document, at most
100 metric members each (so no directive ever lists more than 100 metrics); every distinct set of
dimension sets among them gets one directive. What the EMF schema does not check is enforced here:
≤ 30 keys per dimension set, dimension names ≤ 250 and values ≤ 1024 characters, ≤ 100 values per
histogram array, finite values only.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics.export import ExponentialHistogram, Gauge, Histogram, Metric, MetricsData, Sum

from exporters.awscommon.histogram import distribution
from exporters.awscommon.units import cloudwatch_unit
from exporters.awsemf.config import AwsEmfConfig, MetricDeclaration

MAX_MEMBERS_PER_DOCUMENT = 100  # and so at most 100 metrics per directive
MAX_DIMENSIONS_PER_SET = 30
MAX_DIMENSION_NAME = 250
MAX_DIMENSION_VALUE = 1024

# The Collector's placeholders, with the resource attributes they read (first found wins).
PLACEHOLDER_ATTRIBUTES = {
    "ClusterName": ("ClusterName", "aws.ecs.cluster.name", "k8s.cluster.name"),
    "TaskId": ("TaskId", "aws.ecs.task.id"),
    "NodeName": ("NodeName", "k8s.node.name"),
    "ContainerInstanceId": ("ContainerInstanceId", "aws.ecs.container.instance.id"),
    "TaskDefinitionFamily": ("TaskDefinitionFamily", "aws.ecs.task.family"),
    "ServiceName": ("ServiceName", "service.name"),
}
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

DimensionSet = tuple[str, ...]


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # milliseconds since the epoch, as PutLogEvents wants
    message: str
    group: str
    stream: str


@dataclass(frozen=True)
class _Member:
    name: str
    value: Any
    unit: str
    dimension_sets: tuple[DimensionSet, ...]


def _label_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps([_label_value(v) for v in value])
    return str(value)


def fill_placeholders(template: str, resource: Mapping[str, Any]) -> str:
    """`{ClusterName}` etc. as in the Collector, or any `{resource.attribute}`; missing -> `undefined`."""
    if "{" not in template:
        return template

    def lookup(match: re.Match[str]) -> str:
        for key in PLACEHOLDER_ATTRIBUTES.get(match.group(1), (match.group(1),)):
            if key in resource:
                return _label_value(resource[key])
        return "undefined"

    return _PLACEHOLDER.sub(lookup, template)


class EmfEncoder:
    def __init__(self, config: AwsEmfConfig, on_drop: Callable[[str, int], None]) -> None:
        self.config = config
        self.on_drop = on_drop
        self.units = {d.metric_name: d for d in config.metric_descriptors}
        self.declarations = [
            (
                decl,
                [re.compile(s) for s in decl.metric_name_selectors],
                [re.compile(m.regex) for m in decl.label_matchers],
            )
            for decl in config.metric_declarations
        ]
        self.metric_definition_extra = {"StorageResolution": 1} if config.storage_resolution == 1 else {}
        # Dimension sets depend on the label keys only, unless a label matcher looks at the values.
        self._cacheable = not any(d.label_matchers for d in config.metric_declarations)
        self._dimension_cache: dict[tuple[str, tuple[str, ...]], tuple[tuple[DimensionSet, ...], tuple[str, ...]]] = {}

    # Metric -> members ---------------------------------------------------------------------------------
    def unit(self, metric: Metric) -> str:
        mapped = cloudwatch_unit(metric.unit)
        descriptor = self.units.get(metric.name)
        if descriptor and (descriptor.overwrite or mapped == "None"):
            return descriptor.unit
        return mapped

    def _value(self, metric: Metric, point: Any) -> Any:
        """The member value, or None when the point cannot be sent (counted)."""
        if isinstance(metric.data, Gauge | Sum):
            value = point.value
            if isinstance(value, float) and not math.isfinite(value):
                self.on_drop("non_finite", 1)
                return None
            return value
        if isinstance(metric.data, Histogram | ExponentialHistogram):
            dist = distribution(point)
            if dist is None:
                self.on_drop("non_finite", 1)
                return None
            return {
                "Values": dist.values,
                "Counts": dist.counts,
                "Max": dist.max,
                "Min": dist.min,
                "Count": dist.count,
                "Sum": dist.sum,
            }
        self.on_drop("unsupported_type", 1)
        return None

    # Dimensions --------------------------------------------------------------------------------------
    def _declared_sets(self, name: str, labels: Mapping[str, str]) -> list[DimensionSet] | None:
        """Dimension sets from the matching declarations, or None when no declaration matches."""
        matched = False
        sets: list[DimensionSet] = []
        for decl, selectors, matchers in self.declarations:
            if not any(s.search(name) for s in selectors):
                continue
            if matchers and not any(
                regex.search(m.separator.join(labels.get(k, "") for k in m.label_names))
                for m, regex in zip(decl.label_matchers, matchers, strict=True)
            ):
                continue
            matched = True
            sets.extend(tuple(dims) for dims in _usable(decl, labels))
        return sets if matched else None

    def dimension_sets(self, name: str, labels: Mapping[str, str]) -> tuple[DimensionSet, ...]:
        """The metric's dimension sets for this point; sets over CloudWatch's limits are left out and
        counted (the value stays in the log event)."""
        key = (name, tuple(labels))
        cached = self._dimension_cache.get(key) if self._cacheable else None
        if cached is None:
            cached = self._compute_dimension_sets(name, labels)
            if self._cacheable:
                self._dimension_cache[key] = cached
        sets, rejected = cached
        for reason in rejected:
            self.on_drop(reason, 1)
        return sets

    def _compute_dimension_sets(
        self, name: str, labels: Mapping[str, str]
    ) -> tuple[tuple[DimensionSet, ...], tuple[str, ...]]:
        if self.declarations:
            declared = self._declared_sets(name, labels)
            sets = declared if declared is not None else []
            selected = declared is not None
        else:
            sets, selected = [tuple(sorted(labels))], True
        rollup = self.config.dimension_rollup_option
        if selected and rollup != "NoDimensionRollup":
            if rollup == "ZeroAndSingleDimensionRollup":
                sets.append(())
            sets.extend((k,) for k in sorted(labels))
        kept, rejected = [], []
        for dims in dict.fromkeys(sets):
            reason = _limit_violation(dims)
            if reason:
                rejected.append(reason)
            else:
                kept.append(dims)
        return tuple(kept), tuple(rejected)

    # Documents ---------------------------------------------------------------------------------------
    def encode(self, data: MetricsData) -> list[LogEvent]:
        groups: dict[tuple[str, str, tuple[tuple[str, str], ...], int], list[_Member]] = defaultdict(list)
        convert_resource = self.config.resource_to_telemetry_conversion.enabled
        for resource_metrics in data.resource_metrics:
            resource = resource_metrics.resource.attributes
            group = fill_placeholders(self.config.log_group_name, resource)
            stream = fill_placeholders(self.config.log_stream_name, resource)
            base_labels = {k: _label_value(v) for k, v in resource.items()} if convert_resource else {}
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    unit = self.unit(metric)
                    for point in metric.data.data_points:
                        value = self._value(metric, point)
                        if value is None:
                            continue
                        labels = {**base_labels, **{k: _label_value(v) for k, v in (point.attributes or {}).items()}}
                        labels = self._truncate_values(labels)
                        member = _Member(metric.name, value, unit, self.dimension_sets(metric.name, labels))
                        key = (group, stream, tuple(sorted(labels.items())), point.time_unix_nano // 1_000_000)
                        groups[key].append(member)
        events = []
        for (group, stream, labels, timestamp), members in groups.items():
            for chunk in _chunks(members):
                events.append(LogEvent(timestamp, self._document(timestamp, dict(labels), chunk), group, stream))
        return events

    @staticmethod
    def _truncate_values(labels: dict[str, str]) -> dict[str, str]:
        if all(len(v) <= MAX_DIMENSION_VALUE for v in labels.values()):
            return labels
        return {k: v[:MAX_DIMENSION_VALUE] for k, v in labels.items()}

    def _document(self, timestamp: int, labels: dict[str, str], members: list[_Member]) -> str:
        directives: dict[tuple[DimensionSet, ...], list[dict[str, Any]]] = {}
        for m in members:
            if m.dimension_sets:
                definition = {"Name": m.name, "Unit": m.unit, **self.metric_definition_extra}
                directives.setdefault(m.dimension_sets, []).append(definition)
        document: dict[str, Any] = {
            "_aws": {
                "Timestamp": timestamp,
                "CloudWatchMetrics": [
                    {"Namespace": self.config.namespace, "Dimensions": [list(s) for s in sets], "Metrics": metrics}
                    for sets, metrics in directives.items()
                ],
            },
            **labels,
        }
        for m in members:
            document[m.name] = m.value
        return json.dumps(document, separators=(",", ":"), allow_nan=False)


def _limit_violation(dims: DimensionSet) -> str | None:
    if len(dims) > MAX_DIMENSIONS_PER_SET:
        return "too_many_dimensions"
    if any(not d or len(d) > MAX_DIMENSION_NAME for d in dims):
        return "dimension_name_length"
    return None


def _usable(decl: MetricDeclaration, labels: Mapping[str, str]) -> list[list[str]]:
    """A declared dimension set applies only when the point has every one of its keys."""
    return [dims for dims in decl.dimensions if all(k in labels for k in dims)]


def _chunks(members: list[_Member]) -> list[list[_Member]]:
    """At most MAX_MEMBERS_PER_DOCUMENT members per document, and a metric name at most once in each."""
    chunks: list[tuple[list[_Member], set[str]]] = []
    first_open = 0
    for member in members:
        for chunk, names in chunks[first_open:]:
            if len(chunk) < MAX_MEMBERS_PER_DOCUMENT and member.name not in names:
                chunk.append(member)
                names.add(member.name)
                break
        else:
            chunks.append(([member], {member.name}))
        while first_open < len(chunks) and len(chunks[first_open][0]) >= MAX_MEMBERS_PER_DOCUMENT:
            first_open += 1
    return [chunk for chunk, _ in chunks]
