"""MetricsData -> CloudWatch Embedded Metric Format documents, within every CloudWatch limit.

Points sharing a log group/stream, labels and millisecond timestamp go into one document, at most
100 metric members each (so no directive ever lists more than 100 metrics); every distinct set of
dimension sets among them gets one directive. What the EMF schema does not check is enforced here:
≤ 30 keys per dimension set, dimension names ≤ 250 and values ≤ 1024 characters, ≤ 100 values per
histogram array, finite values only.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics.export import ExponentialHistogram, Gauge, Histogram, Metric, MetricsData, Sum

from exporters.awscommon.cardinality import REASON as CARDINALITY_LIMIT
from exporters.awscommon.cardinality import SeriesGuard
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
_PLAIN_NUMBERS = frozenset({int, float})  # repr() is their JSON text (bool, a subclass of int, is not)
_to_json = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

DimensionSet = tuple[str, ...]


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # milliseconds since the epoch, as PutLogEvents wants
    message: str
    group: str
    stream: str


# (metric name, its JSON key text, value, its metric-definition JSON, dimension sets): a plain tuple,
# built once per point from texts computed once per metric.
_Member = tuple[str, str, Any, str, tuple[DimensionSet, ...]]
# Dimension sets kept, and the limit each left-out set broke (counted per point).
_Dimensions = tuple[tuple[DimensionSet, ...], tuple[str, ...]]


class _LabelSet:
    """One distinct attribute set of a batch: its labels, their JSON, its dimension sets per metric
    and its members per timestamp. A scrape repeats a few attribute sets on every metric, so the
    per-point work is dictionary look-ups."""

    __slots__ = ("admitted", "by_time", "dimensions", "json", "key_set", "keys", "labels", "series")

    def __init__(self, labels: dict[str, str]) -> None:
        items = sorted(labels.items())
        self.labels = dict(items)
        self.keys = tuple(k for k, _ in items)
        self.key_set = frozenset(self.keys)
        self.json = _to_json(self.labels)[1:-1]  # '"k":"v",...' to splice into a document
        self.dimensions: dict[str, _Dimensions] = {}  # by metric name
        # By metric name, for this batch: the sets the cardinality guard admitted, and whether it refused one.
        self.admitted: dict[str, tuple[tuple[DimensionSet, ...], bool]] = {}
        self.series: dict[DimensionSet, tuple[DimensionSet, tuple[str, ...]]] = {}  # dimension values by set
        self.by_time: defaultdict[int, list[_Member]] = defaultdict(list)

    def series_of(self, dims: DimensionSet) -> tuple[DimensionSet, tuple[str, ...]]:
        """The guard's key for one dimension set of these labels (one custom metric per metric name)."""
        series = self.series[dims] = (dims, tuple([self.labels[d] for d in dims]))
        return series


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
    def __init__(
        self, config: AwsEmfConfig, on_drop: Callable[[str, int], None], guard: SeriesGuard | None = None
    ) -> None:
        self.config = config
        self.on_drop = on_drop
        self.guard = guard if guard is not None and guard.limit else None
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
        self._dimension_cache: dict[tuple[str, ...], dict[str, _Dimensions]] = {}
        self._texts: dict[tuple[str, str | None], tuple[str, str]] = {}
        self._directive_heads: dict[tuple[DimensionSet, ...], tuple[tuple[DimensionSet, ...], str]] = {}
        self._namespace = _to_json(config.namespace)

    # Metric -> members ---------------------------------------------------------------------------------
    def unit(self, metric: Metric) -> str:
        unit = cloudwatch_unit(metric.unit)
        descriptor = self.units.get(metric.name)
        if descriptor and (descriptor.overwrite or unit == "None"):
            return descriptor.unit
        return unit

    def _histogram_value(self, point: Any) -> dict[str, Any] | None:
        """Values/Counts with the statistics, or None when the point cannot be sent (counted)."""
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

    def _compute_dimension_sets(self, name: str, labels: Mapping[str, str]) -> _Dimensions:
        """The metric's dimension sets for these labels. Sets over CloudWatch's limits are left out and
        named, to be counted per point (the value stays in the log event)."""
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
        kept_sets = tuple(kept)
        if kept_sets not in self._directive_heads and len(self._directive_heads) < 10_000:
            # One object per distinct value (_document compares them by identity) and its JSON once.
            self._directive_heads[kept_sets] = (kept_sets, self._directive_head_json(kept_sets))
        return self._directive_heads.get(kept_sets, (kept_sets,))[0], tuple(rejected)

    # Documents ---------------------------------------------------------------------------------------
    def encode(self, data: MetricsData) -> list[LogEvent]:
        """The exporter's hot path: per point, a few dictionary look-ups and one tuple."""
        events: list[LogEvent] = []
        admit = self.guard.admitter() if self.guard is not None else None
        metric_texts = self._texts
        for resource_metrics in data.resource_metrics:
            resource = resource_metrics.resource.attributes
            group = fill_placeholders(self.config.log_group_name, resource)
            stream = fill_placeholders(self.config.log_stream_name, resource)
            convert = self.config.resource_to_telemetry_conversion.enabled
            base = {k: _label_value(v) for k, v in resource.items()} if convert else {}
            label_sets: dict[Any, _LabelSet] = {}
            by_labels: dict[tuple[tuple[str, str], ...], _LabelSet] = {}
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    name, body = metric.name, metric.data
                    kind = body.__class__
                    is_number = kind is Gauge or kind is Sum
                    if not is_number and not isinstance(body, Histogram | ExponentialHistogram):
                        self.on_drop("unsupported_type", len(body.data_points))
                        continue
                    try:
                        key_text, definition = metric_texts[(name, metric.unit)]
                    except KeyError:
                        key_text, definition = self._metric_texts(metric)
                    for point in body.data_points:
                        if is_number:
                            value = point.value
                            if value - value != 0:  # inf or nan (0 for every finite int or float)
                                self.on_drop("non_finite", 1)
                                continue
                        else:
                            value = self._histogram_value(point)
                            if value is None:
                                continue
                        attributes = point.attributes
                        try:
                            label_set = label_sets[(*attributes.items(),) if attributes else ()]
                        except (KeyError, TypeError):
                            label_set = self._label_set(attributes, base, label_sets, by_labels)
                        try:
                            kept, rejected = label_set.dimensions[name]
                        except KeyError:
                            kept, rejected = label_set.dimensions[name] = self._compute_dimension_sets(
                                name, label_set.labels
                            )
                        if rejected:
                            for reason in rejected:
                                self.on_drop(reason, 1)
                        if kept and admit is not None:
                            admitted = label_set.admitted.get(name) or self._admit(admit, name, label_set, kept)
                            kept = admitted[0]
                            if admitted[1]:
                                self.on_drop(CARDINALITY_LIMIT, 1)  # the value stays, not billed as a metric
                        label_set.by_time[point.time_unix_nano // 1_000_000].append(
                            (name, key_text, value, definition, kept)
                        )
            for label_set in by_labels.values():
                for timestamp, members in label_set.by_time.items():
                    for chunk in _chunks(members):
                        events.append(LogEvent(timestamp, self._document(timestamp, label_set, chunk), group, stream))
        return events

    @staticmethod
    def _admit(
        admit: Callable[[str, Any], bool], name: str, label_set: _LabelSet, sets: tuple[DimensionSet, ...]
    ) -> tuple[tuple[DimensionSet, ...], bool]:
        """The dimension sets (each one custom metric for these labels) the guard lets through, once
        per batch per label set: a refused set's directive is left out, the value stays in the event."""
        series = label_set.series
        if len(sets) == 1:  # the usual case (NoDimensionRollup, one declaration): no list to build
            dims = sets[0]
            admitted = (sets, False) if admit(name, series.get(dims) or label_set.series_of(dims)) else ((), True)
        else:
            kept = tuple(dims for dims in sets if admit(name, series.get(dims) or label_set.series_of(dims)))
            admitted = (sets, False) if len(kept) == len(sets) else (kept, True)
        label_set.admitted[name] = admitted
        return admitted

    def _label_set(
        self,
        attributes: Mapping[str, Any] | None,
        base: dict[str, str],
        by_attributes: dict[Any, _LabelSet],
        by_labels: dict[tuple[tuple[str, str], ...], _LabelSet],
    ) -> _LabelSet:
        """The label set of attributes not seen yet in this form (equal labels share one set)."""
        labels = self._truncate_values({**base, **{k: _label_value(v) for k, v in (attributes or {}).items()}})
        canonical = tuple(sorted(labels.items()))
        label_set = by_labels.get(canonical)
        if label_set is None:
            label_set = by_labels[canonical] = _LabelSet(labels)
            if self._cacheable and len(self._dimension_cache) < 10_000:
                # Dimension sets depend on the label keys only: share them across batches.
                label_set.dimensions = self._dimension_cache.setdefault(label_set.keys, {})
        with contextlib.suppress(TypeError):  # an unhashable attribute value: looked up again next time
            by_attributes[(*attributes.items(),) if attributes else ()] = label_set
        return label_set

    @staticmethod
    def _truncate_values(labels: dict[str, str]) -> dict[str, str]:
        """Dimension values must be 1-1024 characters: longer ones are cut, empty ones left out."""
        if all(0 < len(v) <= MAX_DIMENSION_VALUE for v in labels.values()):
            return labels
        return {k: v[:MAX_DIMENSION_VALUE] for k, v in labels.items() if v}

    def _document(self, timestamp: int, label_set: _LabelSet, members: list[_Member]) -> str:
        """The JSON text, spliced from cached fragments (json.dumps of a 100-metric dict costs more
        than everything else here); the same text as dumping the equivalent dict."""
        first_sets = members[0][4]
        every_sets = [m[4] for m in members]
        if every_sets.count(first_sets) == len(every_sets):  # the usual case: one directive
            directives = {first_sets: [m[3] for m in members]} if first_sets else {}
        else:
            directives = {}
            for member in members:
                if member[4]:
                    directives.setdefault(member[4], []).append(member[3])
        values = [
            f"{key}{value!r}" if value.__class__ in _PLAIN_NUMBERS else key + _to_json(value)
            for _, key, value, _, _ in members
        ]
        labels = label_set.json
        if labels and not label_set.key_set.isdisjoint([m[0] for m in members]):
            # A metric named like a label: the metric wins, as later keys do in a JSON object.
            names = {m[0] for m in members}
            labels = _to_json({k: v for k, v in label_set.labels.items() if k not in names})[1:-1]
        directive_json = ",".join(
            f"{self._directive_head(sets)}{','.join(defs)}]}}" for sets, defs in directives.items()
        )
        head = f'{{"_aws":{{"Timestamp":{timestamp},"CloudWatchMetrics":[{directive_json}]}}'
        return f"{head},{labels},{','.join(values)}}}" if labels else f"{head},{','.join(values)}}}"

    def _directive_head(self, sets: tuple[DimensionSet, ...]) -> str:
        """'{"Namespace":..,"Dimensions":..,"Metrics":[' for these dimension sets."""
        try:
            return self._directive_heads[sets][1]
        except KeyError:
            return self._directive_head_json(sets)

    def _directive_head_json(self, sets: tuple[DimensionSet, ...]) -> str:
        return f'{{"Namespace":{self._namespace},"Dimensions":{_to_json(sets)},"Metrics":['

    def _metric_texts(self, metric: Metric) -> tuple[str, str]:
        """The metric's JSON member key and its directive definition, computed once per metric."""
        texts = (
            _to_json(metric.name) + ":",
            _to_json({"Name": metric.name, "Unit": self.unit(metric), **self.metric_definition_extra}),
        )
        if len(self._texts) < 100_000:
            self._texts[(metric.name, metric.unit)] = texts
        return texts


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
    if len({m[0] for m in members}) == len(members):  # the usual case: every name once
        return [members[i : i + MAX_MEMBERS_PER_DOCUMENT] for i in range(0, len(members), MAX_MEMBERS_PER_DOCUMENT)]
    chunks: list[tuple[list[_Member], set[str]]] = []
    first_open = 0
    for member in members:
        for chunk, names in chunks[first_open:]:
            if len(chunk) < MAX_MEMBERS_PER_DOCUMENT and member[0] not in names:
                chunk.append(member)
                names.add(member[0])
                break
        else:
            chunks.append(([member], {member[0]}))
        while first_open < len(chunks) and len(chunks[first_open][0]) >= MAX_MEMBERS_PER_DOCUMENT:
            first_open += 1
    return [chunk for chunk, _ in chunks]


def encoder_for(config: Any, on_drop: Callable[[str, int], None], logger: Any) -> EmfEncoder:
    """The encoder as the exporter runs it, cardinality guard included (benchmarks measure this one)."""
    return EmfEncoder(config, on_drop, SeriesGuard(config.max_series_per_metric, logger))
