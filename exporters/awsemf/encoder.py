"""MetricsData -> CloudWatch Embedded Metric Format documents, within every CloudWatch limit.

Points sharing a log group/stream, labels and millisecond timestamp go into one document, at most
100 metric members each (so no directive ever lists more than 100 metrics); every distinct set of
dimension sets among them gets one directive. What the EMF schema does not check is enforced here
(common/aws/names.py has the rules): metric names CloudWatch would refuse are dropped, labels
it would refuse as dimensions are never dimensions, ≤ 30 keys per dimension set, values ≤ 1024
characters, ≤ 100 values per histogram array, finite values within ±2^360 only.

Cost: the work per point is a few dictionary look-ups and one tuple; everything else (names, labels,
dimension sets, the cardinality guard, JSON fragments) is done per metric name, per label set or per
document, and cached where it outlives a batch.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from opentelemetry.sdk.metrics.export import ExponentialHistogram, Gauge, Histogram, Metric, MetricsData, Sum

from common.aws.cardinality import REASON as CARDINALITY_LIMIT
from common.aws.cardinality import SeriesGuard
from common.aws.histogram import MAX_MAGNITUDE, Unsendable, distribution
from common.aws.names import (
    INVALID_DIMENSION,
    INVALID_METRIC_NAME,
    MAX_DIMENSION_VALUE,
    MAX_DIMENSIONS,
    dimension_name_ok,
    dimension_value,
    metric_name_ok,
)
from common.aws.units import cloudwatch_unit
from exporters.awsemf.format import EmfFormatConfig, MetricDeclaration

MAX_MEMBERS_PER_DOCUMENT = 100  # and so at most 100 metrics per directive
# Root members the format itself uses: a label or metric of that name would overwrite them.
RESERVED_V1 = frozenset({"_aws"})
RESERVED_V0 = frozenset({"_aws", "CloudWatchMetrics", "Version", "Timestamp"})
METRIC_NAMED_LIKE_LABEL = "metric_name_is_label"

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


# (metric name, its JSON key text, value, its metric-definition JSON, dimension sets, time in ns): a
# plain tuple, built once per point from texts computed once per metric.
_Member = tuple[str, str, Any, str, tuple[DimensionSet, ...], int]
# Dimension sets kept, and the reasons counted for the point: a left-out set (the value stays in the
# log event), or, when the tuple holds METRIC_NAMED_LIKE_LABEL, the whole point.
_Dimensions = tuple[tuple[DimensionSet, ...], tuple[str, ...]]
_NAME, _KEY, _VALUE, _DEFINITION, _SETS, _TIME = (itemgetter(i) for i in range(6))


class _Labels:
    """One distinct label set as written: its labels (strings, cut to 1024 characters), the keys
    CloudWatch would refuse as dimensions (name or value; never dimensions), its JSON, the guard's keys.
    Kept across batches: a scrape repeats the same few label sets."""

    __slots__ = ("cache_key", "invalid", "json", "labels", "series")

    def __init__(self, labels: dict[str, str], invalid: frozenset[str], json_text: str) -> None:
        self.labels = labels
        self.invalid = invalid
        self.cache_key = (tuple(labels), invalid)  # what the dimension sets depend on (without label matchers)
        self.json = json_text  # '"k":"v",...' to splice into a document
        self.series: dict[DimensionSet, tuple[DimensionSet, tuple[str, ...]]] = {}  # guard keys by set

    def series_of(self, dims: DimensionSet) -> tuple[DimensionSet, tuple[str, ...]]:
        """The guard's key for one dimension set of these labels (one custom metric per metric name)."""
        series = self.series.get(dims)
        if series is None:
            series = self.series[dims] = (dims, tuple([self.labels[d] for d in dims]))
        return series


class _LabelSet:
    """A label set within one batch: its dimension sets per metric name and its members."""

    __slots__ = ("common", "dimensions", "members")

    def __init__(self, common: _Labels) -> None:
        self.common = common
        self.dimensions: dict[str, _Dimensions] = {}  # by metric name
        self.members: list[_Member] = []


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
        self, config: EmfFormatConfig, on_drop: Callable[[str, int], None], guard: SeriesGuard | None = None
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
        self.reserved = RESERVED_V0 if config.version == "0" else RESERVED_V1
        self.parse_json = frozenset(config.parse_json_encoded_attr_values)
        # Dimension sets depend on the label keys (and which are invalid) only, unless a label matcher
        # looks at the values.
        self._cacheable = not any(d.label_matchers for d in config.metric_declarations)
        self._dimension_cache: dict[tuple[tuple[str, ...], frozenset[str]], dict[str, _Dimensions]] = {}
        # By metric name: (member key JSON, definition JSON, unit it was made for), or None for a name
        # CloudWatch would refuse.
        self._texts: dict[str, tuple[str, str, str | None] | None] = {}
        self._directive_heads: dict[tuple[DimensionSet, ...], tuple[tuple[DimensionSet, ...], str]] = {}
        self._namespace = _to_json(config.namespace)
        self._labels: dict[tuple[tuple[str, str], ...], _Labels] = {}  # across batches, bounded

    # Metric -> members ---------------------------------------------------------------------------------
    def unit(self, metric: Metric) -> str:
        unit = cloudwatch_unit(metric.unit)
        descriptor = self.units.get(metric.name)
        if descriptor and (descriptor.overwrite or unit == "None"):
            return descriptor.unit
        return unit

    def _histogram_value(self, point: Any) -> dict[str, Any] | None:
        """Values/Counts with the statistics, or None when the point is not sent (counted when CloudWatch
        would refuse it; an empty window is simply nothing to send)."""
        try:
            dist = distribution(point)
        except Unsendable as exc:
            self.on_drop(exc.reason, 1)
            return None
        if dist is None:
            return None
        return {
            "Values": dist.values,
            "Counts": dist.counts,
            "Max": dist.max,
            "Min": dist.min,
            "Count": dist.count,
            "Sum": dist.sum,
        }

    def _number_dropped(self, value: Any) -> None:
        """Counts a number value that failed the hot loop's range check."""
        finite = value == value and value not in (float("inf"), float("-inf"))
        self.on_drop("value_out_of_range" if finite else "non_finite", 1)

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

    def _compute_dimension_sets(self, name: str, label_set: _LabelSet) -> _Dimensions:
        """The metric's dimension sets for these labels. Sets over CloudWatch's limits or naming a label
        it would refuse are left out and named, to be counted per point (the value stays in the log)."""
        labels, invalid = label_set.common.labels, label_set.common.invalid
        if name in labels:  # the member would replace the label the directive may reference
            return (), (METRIC_NAMED_LIKE_LABEL,)
        rejected: list[str] = []
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
        kept = []
        for dims in dict.fromkeys(sets):
            if invalid and not invalid.isdisjoint(dims):
                rejected.append(INVALID_DIMENSION)
                if self.declarations or len(dims) == 1:
                    continue  # a declared set, or a rollup's single-label set, naming it: left out
                dims = tuple(d for d in dims if d not in invalid)  # the set of every label: the valid ones
            if len(dims) > MAX_DIMENSIONS:
                rejected.append("too_many_dimensions")
            else:
                kept.append(dims)
        kept_sets = tuple(dict.fromkeys(kept))
        if kept_sets not in self._directive_heads and len(self._directive_heads) < 10_000:
            # One object per distinct value, and its JSON once.
            self._directive_heads[kept_sets] = (kept_sets, self._directive_head_json(kept_sets))
        return self._directive_heads.get(kept_sets, (kept_sets,))[0], tuple(dict.fromkeys(rejected))

    # Documents ---------------------------------------------------------------------------------------
    def encode(self, data: MetricsData) -> list[LogEvent]:
        """Documents for a batch: points are gathered per label set, then each label set is admitted
        by the cardinality guard once and written as documents."""
        events: list[LogEvent] = []
        now = self.guard.batch() if self.guard is not None else 0.0
        for resource_metrics in data.resource_metrics:
            resource = resource_metrics.resource.attributes
            group = fill_placeholders(self.config.log_group_name, resource)
            stream = fill_placeholders(self.config.log_stream_name, resource)
            convert = self.config.resource_to_telemetry_conversion.enabled
            base = {k: _label_value(v) for k, v in resource.items()} if convert else {}
            by_labels: dict[tuple[tuple[str, str], ...], _LabelSet] = {}
            self._gather(resource_metrics, base, by_labels)
            for label_set in by_labels.values():
                members = label_set.members
                if not members:
                    continue
                names = set(map(_NAME, members))
                every_sets = list(map(_SETS, members))
                same_sets = every_sets.count(every_sets[0]) == len(every_sets)  # no hashing of nested tuples
                if self.guard is not None:
                    members = self._admit(label_set, names, same_sets, now)
                one_directive = same_sets and members is label_set.members
                for timestamp, timed in _by_millisecond(members):
                    for chunk in _chunks(timed, unique=len(names) == len(members)):
                        document = self._document(timestamp, label_set, chunk, one_directive)
                        events.append(LogEvent(timestamp, document, group, stream))
        return events

    def _gather(
        self, resource_metrics: Any, base: dict[str, str], by_labels: dict[tuple[tuple[str, str], ...], _LabelSet]
    ) -> None:
        """The hot path: each point becomes one member tuple of its label set. Per point: a range check,
        the label set (consecutive points usually share their attributes: one MBean's, one
        connector's), a dictionary look-up for its dimension sets, one tuple."""
        metric_texts = self._texts
        low, high = -MAX_MAGNITUDE, MAX_MAGNITUDE
        label_sets: dict[Any, _LabelSet] = {}
        last_attributes: Any = _NO_ATTRIBUTES_YET
        dimensions: dict[str, _Dimensions] = {}
        append: Callable[[_Member], None] = list().append
        label_set: _LabelSet | None = None
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                name, body = metric.name, metric.data
                kind = body.__class__
                try:
                    key_text, definition, unit = metric_texts[name]
                except (KeyError, TypeError):  # not seen yet, or a name CloudWatch refuses (None)
                    unit = _NO_UNIT
                if unit != metric.unit:
                    texts = self._metric_texts(metric)
                    if texts is None:
                        self.on_drop(INVALID_METRIC_NAME, len(body.data_points))
                        continue
                    key_text, definition, unit = texts
                if kind is Gauge or kind is Sum:
                    points, numbers = body.data_points, True
                elif kind is Histogram or kind is ExponentialHistogram:
                    points, numbers = self._histogram_points(body.data_points), False
                else:
                    self.on_drop("unsupported_type", len(body.data_points))
                    continue
                for point in points:
                    value = point.value
                    if numbers and not low <= value <= high:  # also False for NaN
                        self._number_dropped(value)
                        continue
                    attributes = point.attributes
                    if attributes is not last_attributes and attributes != last_attributes:
                        try:
                            label_set = label_sets[(*attributes.items(),) if attributes else ()]
                        except (KeyError, TypeError):
                            label_set = self._label_set(attributes, base, label_sets, by_labels)
                        last_attributes, dimensions, append = attributes, label_set.dimensions, label_set.members.append
                    try:
                        kept, rejected = dimensions[name]
                    except KeyError:
                        assert label_set is not None
                        kept, rejected = dimensions[name] = self._compute_dimension_sets(name, label_set)
                    if rejected:
                        if METRIC_NAMED_LIKE_LABEL in rejected:
                            self.on_drop(METRIC_NAMED_LIKE_LABEL, 1)
                            continue
                        for reason in rejected:
                            self.on_drop(reason, 1)
                    append((name, key_text, value, definition, kept, point.time_unix_nano))

    def _histogram_points(self, points: Any) -> list[_Valued]:
        """Histogram points as their EMF values (points CloudWatch would refuse are counted and left out)."""
        valued = []
        for point in points:
            value = self._histogram_value(point)
            if value is not None:
                valued.append(_Valued(value, point.attributes, point.time_unix_nano))
        return valued

    def _admit(self, label_set: _LabelSet, names: set[str], same_sets: bool, now: float) -> list[_Member]:
        """The cardinality guard, once per label set per batch: every metric name of the label set is
        admitted for each of its dimension sets in one call. A refused set's directive is left out for
        that metric (counted per point); the value stays in the log event."""
        assert self.guard is not None
        members = label_set.members
        if same_sets:
            names_by_sets = {members[0][4]: names}
        else:
            names_by_sets = {}
            for member in members:
                names_by_sets.setdefault(member[4], set()).add(member[0])
        refused: dict[str, set[DimensionSet]] = {}
        for kept, kept_names in names_by_sets.items():
            for dims in kept:
                for name in self.guard.admit_names(label_set.common.series_of(dims), kept_names, now):
                    refused.setdefault(name, set()).add(dims)
        if not refused:
            return members
        out = []
        for member in members:
            gone = refused.get(member[0])
            if gone and not gone.isdisjoint(member[4]):
                self.on_drop(CARDINALITY_LIMIT, 1)
                member = (*member[:4], tuple(d for d in member[4] if d not in gone), member[5])
            out.append(member)
        return out

    def _label_set(
        self,
        attributes: Mapping[str, Any] | None,
        base: dict[str, str],
        by_attributes: dict[Any, _LabelSet],
        by_labels: dict[tuple[tuple[str, str], ...], _LabelSet],
    ) -> _LabelSet:
        """The label set of attributes not seen yet in this form (equal labels share one set)."""
        merged = {**base, **{k: _label_value(v) for k, v in (attributes or {}).items()}}
        canonical = tuple(sorted((k, v[:MAX_DIMENSION_VALUE]) for k, v in merged.items() if k not in self.reserved))
        label_set = by_labels.get(canonical)
        if label_set is None:
            common = self._labels.get(canonical) or self._new_labels(canonical)
            label_set = by_labels[canonical] = _LabelSet(common)
            if self._cacheable and len(self._dimension_cache) < 10_000:
                # Dimension sets depend on the label keys (and which are invalid) only: share them.
                label_set.dimensions = self._dimension_cache.setdefault(common.cache_key, {})
        with contextlib.suppress(TypeError):  # an unhashable attribute value: looked up again next time
            by_attributes[(*attributes.items(),) if attributes else ()] = label_set
        return label_set

    def _new_labels(self, canonical: tuple[tuple[str, str], ...]) -> _Labels:
        labels = dict(canonical)
        parsed = {k: _parsed_json(v) for k, v in labels.items() if k in self.parse_json}
        parsed = {k: v for k, v in parsed.items() if v is not _NOT_JSON}
        invalid = frozenset(
            k for k, v in labels.items() if k in parsed or not dimension_name_ok(k) or dimension_value(v) is None
        )
        written = {**labels, **parsed} if parsed else labels
        common = _Labels(labels, invalid, _to_json(written)[1:-1])
        if len(self._labels) < 10_000:
            self._labels[canonical] = common
        return common

    def _document(self, timestamp: int, label_set: _LabelSet, members: list[_Member], one_directive: bool) -> str:
        """The JSON text, spliced from cached fragments (json.dumps of a 100-metric dict costs more
        than everything else here); the same text as dumping the equivalent dict. `one_directive`: every
        member of the label set has the same dimension sets (the usual case)."""
        first_sets = members[0][4]
        if one_directive:
            directives = {first_sets: list(map(_DEFINITION, members))} if first_sets else {}
        else:
            directives = {}
            for member in members:
                if member[4]:
                    directives.setdefault(member[4], []).append(member[3])
        values = list(map(_VALUE, members))
        if set(map(type, values)) <= _PLAIN_NUMBERS:  # repr() is the JSON text of an int or a float
            value_texts = ",".join(map(str.__add__, map(_KEY, members), map(repr, values)))
        else:
            value_texts = ",".join(m[1] + _value_json(m[2]) for m in members)
        labels = label_set.common.json  # no member shares a label's key: such points are dropped
        head = self._head(timestamp, directives)
        body = f"{labels},{value_texts}" if labels else value_texts
        return f"{{{head},{body}}}" if head else f"{{{body}}}"

    def _head(self, timestamp: int, directives: dict[tuple[DimensionSet, ...], list[str]]) -> str:
        """The metadata members: `_aws` (version 1), the older root members (version 0), or, with
        disable_metric_extraction, no directive at all."""
        config = self.config
        directive_json = (
            ""
            if config.disable_metric_extraction
            else ",".join(f"{self._directive_head(sets)}{','.join(defs)}]}}" for sets, defs in directives.items())
        )
        if config.version == "0":
            metrics = f',"CloudWatchMetrics":[{directive_json}]' if directive_json else ""
            return f'"Version":"0","Timestamp":"{timestamp}"{metrics}'
        if config.disable_metric_extraction:
            return ""
        return f'"_aws":{{"Timestamp":{timestamp},"CloudWatchMetrics":[{directive_json}]}}'

    def _directive_head(self, sets: tuple[DimensionSet, ...]) -> str:
        """'{"Namespace":..,"Dimensions":..,"Metrics":[' for these dimension sets."""
        try:
            return self._directive_heads[sets][1]
        except KeyError:
            return self._directive_head_json(sets)

    def _directive_head_json(self, sets: tuple[DimensionSet, ...]) -> str:
        return f'{{"Namespace":{self._namespace},"Dimensions":{_to_json(sets)},"Metrics":['

    def _metric_texts(self, metric: Metric) -> tuple[str, str, str | None] | None:
        """The metric's JSON member key and its directive definition, computed once per metric name (and
        unit); None for a name CloudWatch would refuse (or one the format reserves)."""
        name = metric.name
        if not metric_name_ok(name) or name in self.reserved:
            texts = None
        else:
            texts = (
                _to_json(name) + ":",
                _to_json({"Name": name, "Unit": self.unit(metric), **self.metric_definition_extra}),
                metric.unit,
            )
        if len(self._texts) < 100_000:
            self._texts[name] = texts
        return texts


_NOT_JSON = object()
_NO_ATTRIBUTES_YET = object()  # unequal to every attributes value, None included
_NO_UNIT = object()  # unequal to every unit


def _parsed_json(text: str) -> Any:
    """parse_json_encoded_attr_values: the JSON structure a label's text encodes, or _NOT_JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _value_json(value: Any) -> str:
    if isinstance(value, dict):
        return _to_json(value)
    return repr(int(value) if isinstance(value, bool) else value)


class _Valued:
    """A histogram point reduced to what the hot path reads of a number point."""

    __slots__ = ("attributes", "time_unix_nano", "value")

    def __init__(self, value: dict[str, Any], attributes: Any, time_unix_nano: int) -> None:
        self.value = value
        self.attributes = attributes
        self.time_unix_nano = time_unix_nano


def _by_millisecond(members: list[_Member]) -> list[tuple[int, list[_Member]]]:
    """Members grouped by their millisecond timestamp (one document shares one `Timestamp`)."""
    times = list(map(_TIME, members))
    if times.count(times[0]) == len(times):
        return [(times[0] // 1_000_000, members)]
    groups: dict[int, list[_Member]] = {}
    for member in members:
        groups.setdefault(member[5] // 1_000_000, []).append(member)
    return list(groups.items())


def _usable(decl: MetricDeclaration, labels: Mapping[str, str]) -> list[list[str]]:
    """A declared dimension set applies only when the point has every one of its keys."""
    return [dims for dims in decl.dimensions if all(k in labels for k in dims)]


def _chunks(members: list[_Member], unique: bool) -> list[list[_Member]]:
    """At most MAX_MEMBERS_PER_DOCUMENT members per document, and a metric name at most once in each.
    `unique`: every name is there once (the usual case)."""
    if unique:
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
