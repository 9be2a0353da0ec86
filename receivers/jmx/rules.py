"""jmx-metrics rules, compiled once: the gateway query they need, and how a gateway reply becomes metrics.

The gateway reply format is described in java/JmxGateway.java (`MBeanReader`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from opentelemetry.sdk.metrics.export import AggregationTemporality, Gauge, Metric, NumberDataPoint, Sum

from receivers.jmx.rulemodels import ALL_OTHER_ATTRIBUTES, UNIT_FACTORS, Mapping, Rule, StateMap, as_list

Number = int | float
_UNESCAPED_DOT = re.compile(r"(?<!\\)\.")
_EXPRESSION = re.compile(r"^(param|beanattr|const|domain)\((.*)\)$", re.DOTALL)
_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r"}


def unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: _UNESCAPES.get(m.group(1), m.group(1)), text)


# ---------------------------------------------------------------------------------------------------
# The gateway's reply


@dataclass
class Bean:
    """One MBean as the gateway read it."""

    groups: list[str]
    name: str
    keys: dict[str, str]
    numbers: dict[str, Number] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[tuple[str, Number]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    errored: dict[str, str] = field(default_factory=dict)  # attribute -> why it could not be read


@dataclass
class Reply:
    up: bool
    detail: str
    beans: list[Bean]


class ReplyError(Exception):
    """The gateway refused the query itself (a malformed ObjectName pattern)."""


def _number(text: str) -> Number:
    return float(text) if ("." in text or "E" in text) else int(text)


def parse_reply(text: str) -> Reply:
    status, _, rest = text.partition("\n")
    head, _, detail = status.partition("\t")
    if head == "ERROR":
        raise ReplyError(unescape(detail))
    if head != "UP":
        return Reply(False, unescape(detail), [])
    beans: list[Bean] = []
    bean: Bean | None = None
    for line in rest.split("\n"):
        if not line:
            continue
        parts = line.split("\t")
        kind = parts[0]
        if kind == "B":
            keys = dict(unescape(p).split("=", 1) for p in parts[3:])
            bean = Bean(parts[1].split(","), unescape(parts[2]), keys)
            beans.append(bean)
        elif bean is None:
            continue
        elif kind == "N":
            bean.numbers[unescape(parts[1])] = _number(parts[2])
        elif kind == "S":
            bean.strings[unescape(parts[1])] = unescape(parts[2])
        elif kind == "T":
            bean.tables.setdefault(unescape(parts[1]), []).append((unescape(parts[2]), _number(parts[3])))
        elif kind == "X":
            bean.skipped[unescape(parts[1])] = parts[2]
        elif kind == "E":
            bean.errored[unescape(parts[1])] = parts[2]
    return Reply(True, "", beans)


# ---------------------------------------------------------------------------------------------------
# Compiled rules


@dataclass(frozen=True)
class Expression:
    """A metric attribute's source: param(key), beanattr(Attr), const(value) or domain(prefix), maybe
    lowercased."""

    kind: str
    arg: str
    lowercase: bool = False

    @classmethod
    def parse(cls, text: str) -> Expression:
        text = text.strip()
        if text.startswith("lowercase(") and text.endswith(")"):
            inner = cls.parse(text[len("lowercase(") : -1])
            return cls(inner.kind, inner.arg, True)
        match = _EXPRESSION.match(text)
        assert match, f"validated by the config model: {text!r}"
        kind = match.group(1)
        return cls(kind, match.group(2) if kind in ("const", "domain") else match.group(2).strip())

    def value(self, bean: Bean) -> str | None:
        if self.kind == "const":
            result: str | None = self.arg
        elif self.kind == "param":
            result = bean.keys.get(self.arg)
        elif self.kind == "domain":
            result = bean.name.partition(":")[0].removeprefix(self.arg)
        else:
            found = bean.strings.get(self.arg, bean.numbers.get(self.arg))
            result = None if found is None else str(found)
        return result.lower() if result is not None and self.lowercase else result


@dataclass(frozen=True)
class StateSpec:
    attribute: str
    states: tuple[tuple[str, frozenset[str]], ...]
    default: str

    @classmethod
    def build(cls, attribute: str, mapping: StateMap) -> StateSpec:
        states, default = [], ""
        for name, values in mapping.items():
            values_list = as_list(values)
            if "*" in values_list:
                default = name
            states.append((name, frozenset(v for v in values_list if v != "*")))
        return cls(attribute, tuple(states), default)

    def current(self, value: str) -> str:
        return next((name for name, values in self.states if value in values), self.default)


@dataclass(frozen=True)
class CompiledMapping:
    path: str  # as the gateway reports it: `Attr`, `Attr.item`, `Attr.length`
    top: str  # the MBean attribute to read
    metric: str
    type: str
    unit: str
    desc: str
    factor: float | None
    attributes: tuple[tuple[str, Expression], ...]
    state: StateSpec | None
    missing: float | None
    key_attribute: str

    @property
    def needs_string(self) -> bool:
        return self.state is not None


@dataclass(frozen=True)
class CompiledRule:
    group: str
    patterns: tuple[str, ...]
    mappings: tuple[CompiledMapping, ...]
    open_keys_only: frozenset[str] | None  # wildcardParams: keys fixed by every pattern are excluded
    others: CompiledMapping | None = None  # the `'*'` mapping: every numeric attribute no mapping names
    _named: dict[str, CompiledMapping] = field(default_factory=dict, compare=False, repr=False)

    def other_attributes(self, bean: Bean) -> list[CompiledMapping]:
        """A mapping, named after the attribute, for each numeric value of the bean no mapping asks for."""
        if self.others is None:
            return []
        taken = {mapping.path for mapping in self.mappings}
        found = []
        for path in [*bean.numbers, *bean.tables]:
            if path not in taken:
                if path not in self._named:
                    self._named[path] = replace(
                        self.others, path=path, top=path, metric=self.others.metric.removesuffix("*") + path
                    )
                found.append(self._named[path])
        return found

    def wildcard_attributes(self, bean: Bean) -> dict[str, str]:
        if self.open_keys_only is None:
            return {}
        return {k: v for k, v in bean.keys.items() if k not in self.open_keys_only}


def _fixed_keys(pattern: str) -> set[str]:
    """Keys a pattern gives a literal value (`type=connector-metrics`), as opposed to `server=*`."""
    _, _, props = pattern.partition(":")
    fixed = set()
    for part in props.split(","):
        key, eq, value = part.partition("=")
        if eq and "*" not in value and "?" not in value:
            fixed.add(key.strip())
    return fixed


def _compile_mapping(rule: Rule, attribute: str, mapping_config: Mapping | None) -> CompiledMapping:
    mapping = mapping_config or Mapping()
    metric_type = mapping.type or rule.type or "gauge"
    unit = mapping.unit or rule.unit or ""
    source_unit = mapping.sourceUnit or rule.sourceUnit
    factor = UNIT_FACTORS.get((source_unit, unit)) if source_unit and source_unit != unit else None
    expressions: list[tuple[str, Expression]] = []
    state = None
    for name, value in {**rule.metricAttribute, **mapping.metricAttribute}.items():
        if isinstance(value, dict):
            state = StateSpec.build(name, value)
        else:
            expressions.append((name, Expression.parse(value)))
    path = attribute.replace("\\.", ".")
    top = _UNESCAPED_DOT.split(attribute, maxsplit=1)[0].replace("\\.", ".")
    missing = mapping.missingValue if mapping.missingValue is not None else rule.missingValue
    return CompiledMapping(
        path=path,
        top=top,
        metric=rule.prefix + (mapping.metric or path),
        type=metric_type,
        unit=unit,
        desc=mapping.desc or "",
        factor=factor,
        attributes=tuple(expressions),
        state=state if metric_type == "state" else None,
        missing=missing,
        key_attribute=mapping.keyAttribute or rule.keyAttribute or "key",
    )


def compile_rules(rules: list[Rule]) -> list[CompiledRule]:
    compiled = []
    for index, rule in enumerate(rules):
        fixed = set.intersection(*(_fixed_keys(p) for p in rule.patterns)) if rule.wildcardParams else None
        compiled.append(
            CompiledRule(
                group=str(index),
                patterns=tuple(rule.patterns),
                mappings=tuple(
                    _compile_mapping(rule, attr, m) for attr, m in rule.mapping.items() if attr != ALL_OTHER_ATTRIBUTES
                ),
                open_keys_only=frozenset(fixed) if fixed is not None else None,
                others=(
                    _compile_mapping(rule, ALL_OTHER_ATTRIBUTES, rule.mapping[ALL_OTHER_ATTRIBUTES])
                    if ALL_OTHER_ATTRIBUTES in rule.mapping
                    else None
                ),
            )
        )
    return compiled


def build_query(rules: list[CompiledRule]) -> str:
    """One line per (rule, pattern): `group TAB pattern TAB attr ...`, `$attr` when its string is needed."""
    lines: list[str] = []
    for rule in rules:
        wanted: dict[str, bool] = {}
        for mapping in rule.mappings:
            wanted[mapping.top] = wanted.get(mapping.top, False) or mapping.needs_string
            for _, expression in mapping.attributes:
                if expression.kind == "beanattr":
                    wanted[expression.arg] = True
        if rule.others is not None:
            wanted[ALL_OTHER_ATTRIBUTES] = False  # the gateway then reads the MBean's own attribute list
        attrs = "\t".join(("$" if as_string else "") + name for name, as_string in wanted.items())
        lines.extend(f"{rule.group}\t{pattern}\t{attrs}" for pattern in rule.patterns)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------
# Reply -> metrics


# The points of one scrape by metric name, with the mapping that names and types the metric (the first one).
_Points = dict[str, tuple[CompiledMapping, list[NumberDataPoint]]]


# A series: (metric, attributes). Its start time, last value and the scrape it was last seen in.
_SeriesKey = tuple[str, frozenset[tuple[str, str]]]


class _Planned(NamedTuple):
    """One mapping as it applies to one MBean: its point attributes and series key, worked out once."""

    mapping: CompiledMapping
    attributes: dict[str, str]
    series: _SeriesKey


@dataclass(frozen=True)
class _BeanPlan:
    """What one rule makes of one MBean, reused scrape after scrape while `signature` (the values its
    `beanattr` expressions read, the `'*'` attributes it has) stays the same: a scrape then costs a lookup
    and a point per value, not the attribute expressions and a frozenset per point."""

    signature: tuple[object, ...]
    planned: tuple[_Planned, ...]


class MetricBuilder:
    """Turns replies into OTel metrics. Stateful: cumulative sums keep a start time per series (reset when
    the value goes down, i.e. the source restarted), and each MBean's plan is kept while it is seen."""

    def __init__(self, rules: list[CompiledRule]) -> None:
        self.rules = {rule.group: rule for rule in rules}
        # rule group -> the `beanattr` arguments its attribute expressions read (part of a plan's signature)
        self._reads = {
            rule.group: tuple(
                sorted(
                    {
                        expression.arg
                        for mapping in (*rule.mappings, *((rule.others,) if rule.others else ()))
                        for _, expression in mapping.attributes
                        if expression.kind == "beanattr"
                    }
                )
            )
            for rule in rules
        }
        self._starts: dict[_SeriesKey, tuple[int, Number, int]] = {}  # series -> (start, last value, last seen)
        self._plans: dict[tuple[str, str], _BeanPlan] = {}  # (rule group, MBean name) -> its plan
        # The last build's points that could not be read (getter threw, MBean timed out), by reason.
        self.errored: Counter[str] = Counter()

    def build(self, reply: Reply, now: int) -> tuple[list[Metric], Counter[str]]:
        """The metrics of one scrape, and the count of values skipped by reason."""
        metrics: _Points = {}
        dropped: Counter[str] = Counter()
        self.errored = Counter()
        plans: dict[tuple[str, str], _BeanPlan] = {}
        for bean in reply.beans:
            for group in bean.groups:
                rule = self.rules.get(group)
                if rule is not None:
                    plan = self._plan(rule, bean)
                    plans[group, bean.name] = plan
                    self._apply(plan, bean, now, metrics, dropped)
        if reply.up and not self.errored:  # forget series the target no longer has (tables dropped ...); keep
            # all while it is down or some of it could not be read
            self._starts = {key: value for key, value in self._starts.items() if value[2] == now}
            self._plans = plans
        else:
            self._plans.update(plans)
        return [self._metric(mapping, points) for mapping, points in metrics.values() if points], dropped

    def _plan(self, rule: CompiledRule, bean: Bean) -> _BeanPlan:
        """The rule's plan for this MBean: the one kept from the last scrape unless its signature changed."""
        reads = self._reads[rule.group]
        signature: tuple[object, ...] = tuple(bean.strings.get(a, bean.numbers.get(a)) for a in reads) if reads else ()
        others = rule.other_attributes(bean)
        if others:
            signature += tuple(others)
        plan = self._plans.get((rule.group, bean.name))
        if plan is not None and plan.signature == signature:
            return plan
        base = rule.wildcard_attributes(bean)
        planned = []
        for mapping in [*rule.mappings, *others]:
            attributes = dict(base)
            for name, expression in mapping.attributes:
                value = expression.value(bean)
                if value is not None:
                    attributes[name] = value
            planned.append(_Planned(mapping, attributes, (mapping.metric, frozenset(attributes.items()))))
        return _BeanPlan(signature, tuple(planned))

    def _apply(self, plan: _BeanPlan, bean: Bean, now: int, metrics: _Points, dropped: Counter[str]) -> None:
        numbers, errored = bean.numbers, bean.errored
        for mapping, attributes, series in plan.planned:
            if mapping.top in errored:
                self.errored[errored[mapping.top]] += 1
                continue
            value = numbers.get(mapping.path) if mapping.state is None else None
            if value is None:  # a state, a table, or nothing: the general path
                for point_attributes, row_value in self._values(mapping, bean, attributes, dropped):
                    self._add(metrics, mapping, self._point(mapping, point_attributes, row_value, now))
                continue
            if mapping.missing is not None and value == mapping.missing:
                continue  # the source's own "not available": no point, and not an error
            if mapping.factor:
                value *= mapping.factor
            start = 0 if mapping.type == "gauge" else self._start(series, mapping.type == "counter", value, now)
            # The plan's attributes dict itself, scrape after scrape: points are never changed in place in the
            # pipeline (processors build new ones), and one dict less per point is less for the GC to scan.
            # Positional: a frozen dataclass's keyword init costs a third more.
            self._add(metrics, mapping, NumberDataPoint(attributes, start, now, value))

    @staticmethod
    def _add(metrics: _Points, mapping: CompiledMapping, point: NumberDataPoint) -> None:
        entry = metrics.get(mapping.metric)
        if entry is None:
            metrics[mapping.metric] = (mapping, [point])
        else:
            entry[1].append(point)

    def _values(
        self, mapping: CompiledMapping, bean: Bean, attributes: dict[str, str], dropped: Counter[str]
    ) -> list[tuple[dict[str, str], Number]]:
        """A state's points, a table's rows, or none (counted when the gateway said why)."""
        path = mapping.path
        if mapping.state is not None:
            text = bean.strings.get(path)
            if text is None:
                if path in bean.skipped:
                    dropped[bean.skipped[path]] += 1
                return []
            current = mapping.state.current(text)
            return [
                ({**attributes, mapping.state.attribute: name}, int(name == current))
                for name, _ in mapping.state.states
            ]
        if path not in bean.tables:
            if path in bean.skipped:
                dropped[bean.skipped[path]] += 1
            return []
        result = []
        for key, value in bean.tables[path]:
            if mapping.missing is not None and value == mapping.missing:
                continue  # the source's own "not available": no point, and not an error
            result.append(
                ({**attributes, mapping.key_attribute: key}, value * mapping.factor if mapping.factor else value)
            )
        return result

    def _start(self, series: _SeriesKey, counter: bool, value: Number, now: int) -> int:
        """A cumulative series' start time: kept, or `now` when it is new or a counter went down."""
        previous = self._starts.get(series)
        start = now if previous is None or (counter and value < previous[1]) else previous[0]
        self._starts[series] = (start, value, now)
        return start

    def _point(self, mapping: CompiledMapping, attributes: dict[str, str], value: Number, now: int) -> NumberDataPoint:
        start = 0  # gauges carry no start time
        if mapping.type != "gauge":
            start = self._start((mapping.metric, frozenset(attributes.items())), mapping.type == "counter", value, now)
        return NumberDataPoint(attributes=attributes, start_time_unix_nano=start, time_unix_nano=now, value=value)

    @staticmethod
    def _metric(mapping: CompiledMapping, points: list[NumberDataPoint]) -> Metric:
        data: Gauge | Sum
        # Positional, as the points: one Metric and one Gauge/Sum per metric per target per scrape.
        if mapping.type == "gauge":
            data = Gauge(points)
        else:
            data = Sum(points, AggregationTemporality.CUMULATIVE, mapping.type == "counter")
        return Metric(mapping.metric, mapping.desc, mapping.unit, data)
