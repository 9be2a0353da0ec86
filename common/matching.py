"""Which metrics and points a processor acts on: the one selection module every processor uses.

Config shapes follow the Collector's, which spells the same idea three ways:
- a single name with `match_type` (metricstransform `include`, our rename/rescale rules): `NameRule`;
- a list of names (cumulativetodelta `include: {metrics, match_type}`): `MetricsSelector`;
- match properties (filter / attributes `include: {match_type, metric_names, resource_attributes,
  attributes}`): `MatchProperties`.
All compile to `Selector`, and an include/exclude pair to `Selection`.

`regexp` patterns are searched, not anchored (Go's `MatchString`, as in the Collector): write `^...$`
to match a whole name. Replacement templates use Go's syntax (`$1`, `${1}`, `${name}`, `$$`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from collector.component import ConfigModel
from collector.configtypes import Refused


def _no_expr(value: Any) -> Any:
    if value == "expr":
        raise ValueError(
            "match_type expr is not supported (the Collector deprecated it for OTTL): use strict or regexp"
        )
    return value


MatchType = Annotated[Literal["strict", "regexp"], BeforeValidator(_no_expr)]
PointPredicate = Callable[[Mapping[str, Any]], bool]
_CACHE_LIMIT = 10_000
_METRICS_ONLY = "spans and logs only; this collector runs metrics pipelines"


def compile_regexp(pattern: str) -> re.Pattern[str]:
    """Compile or raise ValueError with the reason (pydantic turns it into a config error with a path)."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


class NamePattern:
    """One name, matched strictly or as a regexp; `match` returns the regexp match for templates."""

    def __init__(self, pattern: str, match_type: MatchType, full_match: bool = False) -> None:
        self.pattern = pattern
        self.regexp = compile_regexp(pattern) if match_type == "regexp" else None
        self.full_match = full_match

    def match(self, name: str) -> re.Match[str] | bool:
        if self.regexp is None:
            return name == self.pattern
        return (self.regexp.fullmatch(name) if self.full_match else self.regexp.search(name)) or False


class RegexpConfig(ConfigModel):
    """The Collector's `regexp:` block beside `match_type: regexp` (filterset/regexp)."""

    cacheenabled: bool = Field(False, description="Remember each name's result (the Collector's LRU cache).")
    cachemaxnumentries: int = Field(0, ge=0, description="Cache bound; 0 = unbounded, as in the Collector.")
    fullmatchrequired: bool = Field(False, description="A pattern must match the whole name (as if in ^...$).")

    def cache_limit(self) -> int | None:
        """Entries the name cache may hold: 0 = no cache, None = unbounded."""
        if not self.cacheenabled:
            return 0
        return self.cachemaxnumentries or None


# ---------------------------------------------------------------------------------------------------
# Go-style replacement templates ($1, ${1}, ${name}, $$) for regexp renames

_TEMPLATE_REF = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")


def template_groups(template: str) -> list[str]:
    """The group references a template uses."""
    return [m.group(1) or m.group(2) for m in _TEMPLATE_REF.finditer(template) if m.group(0) != "$$"]


def check_template(template: str, regexp: re.Pattern[str]) -> None:
    """Refuse references to groups the pattern does not have (Go silently expands them to '')."""
    for ref in template_groups(template):
        known = ref in regexp.groupindex if not ref.isdigit() else int(ref) <= regexp.groups
        if not known:
            named = ", ".join(regexp.groupindex) or "none"
            raise ValueError(
                f"refers to group ${{{ref}}}, but the pattern {regexp.pattern!r} has {regexp.groups} numbered "
                f"group(s) and named groups: {named}"
            )


def expand_template(template: str, match: re.Match[str]) -> str:
    def group(ref: re.Match[str]) -> str:
        if ref.group(0) == "$$":
            return "$"
        name = ref.group(1) or ref.group(2)
        return match.group(int(name) if name.isdigit() else name) or ""

    return _TEMPLATE_REF.sub(group, template)


# ---------------------------------------------------------------------------------------------------
# Config shapes


class NameRule(ConfigModel):
    """Base for rules that pick metrics by one name (`include`) as metricstransform does."""

    match_type: MatchType = Field("strict", description="strict: equal names; regexp: `include` is searched.")
    include: str = Field(min_length=1, description="The metric name, or a regular expression.")

    @field_validator("include")
    @classmethod
    def _valid_pattern(cls, include: str, info: ValidationInfo) -> str:
        if info.data.get("match_type") == "regexp":
            compile_regexp(include)
        return include

    def name_pattern(self) -> NamePattern:
        return NamePattern(self.include, self.match_type)


def check_new_name(new_name: str, info: ValidationInfo) -> str:
    """For a `new_name` beside `include`/`match_type`: templates may only use groups that exist."""
    include, match_type = info.data.get("include"), info.data.get("match_type")
    if include is None:
        return new_name  # include itself is invalid; that error is reported already
    if match_type == "regexp":
        check_template(new_name, compile_regexp(include))
    elif template_groups(new_name):
        raise ValueError("uses $-references, which need match_type: regexp")
    return new_name


class AttributeMatch(ConfigModel):
    key: str = Field(min_length=1)
    value: str | int | float | bool | None = Field(
        None, description="Without a value, the key only has to be present. A regexp under match_type regexp."
    )


def check_patterns(patterns: list[str], info: ValidationInfo) -> list[str]:
    """For a list beside `match_type`: under regexp, every entry must compile."""
    if info.data.get("match_type") == "regexp":
        for pattern in patterns:
            compile_regexp(pattern)
    return patterns


class MetricsSelector(ConfigModel):
    """The cumulativetodelta processor's `include`/`exclude`, with the Collector's rules: `match_type` and
    `metrics` go together, `metric_types` narrows by type (`sum`, `histogram`)."""

    match_type: MatchType | None = None
    metrics: list[str] = Field(default_factory=list)
    regexp: RegexpConfig | None = None
    metric_types: list[Literal["sum", "histogram"]] = Field(default_factory=list)

    _valid_patterns = field_validator("metrics")(check_patterns)

    @model_validator(mode="after")
    def _together(self) -> Self:
        if self.metrics and self.match_type is None:
            raise ValueError("match_type must be set if metrics are supplied")
        if self.match_type is not None and not self.metrics:
            raise ValueError("metrics must be supplied if match_type is set")
        return self

    def selector(self) -> Selector:
        return Selector(self.metrics, self.match_type or "strict", regexp=self.regexp)


class MatchProperties(ConfigModel):
    """The filter and attributes processors' `include`/`exclude`. All given conditions must hold."""

    match_type: MatchType = "strict"
    metric_names: list[str] = Field(default_factory=list, description="Any of these names.")
    resource_attributes: list[AttributeMatch] = Field(
        default_factory=list, description="Every one must match the resource (the filter processor's spelling)."
    )
    resources: list[AttributeMatch] = Field(
        default_factory=list, description="The attributes processor's spelling of resource_attributes; both count."
    )
    attributes: list[AttributeMatch] = Field(
        default_factory=list, description="Every one must match the data point's attributes."
    )
    regexp: RegexpConfig | None = None
    expressions: Annotated[
        Any, Refused("expr expressions are not supported (deprecated in the Collector): use match_type regexp")
    ] = None
    libraries: Annotated[
        Any, Refused("instrumentation scopes cannot be selected: use metric_names, resources or attributes")
    ] = None
    services: Annotated[Any, Refused(_METRICS_ONLY)] = None
    span_names: Annotated[Any, Refused(_METRICS_ONLY)] = None
    span_kinds: Annotated[Any, Refused(_METRICS_ONLY)] = None
    log_bodies: Annotated[Any, Refused(_METRICS_ONLY)] = None
    log_severity_texts: Annotated[Any, Refused(_METRICS_ONLY)] = None
    log_severity_number: Annotated[Any, Refused(_METRICS_ONLY)] = None

    _valid_names = field_validator("metric_names")(check_patterns)

    @field_validator("resource_attributes", "resources", "attributes")
    @classmethod
    def _valid_values(cls, matches: list[AttributeMatch], info: ValidationInfo) -> list[AttributeMatch]:
        check_patterns([str(m.value) for m in matches if m.value is not None], info)
        return matches

    def selector(self) -> Selector:
        resources = [*self.resource_attributes, *self.resources]
        return Selector(self.metric_names, self.match_type, self.attributes, resources, self.regexp)


# ---------------------------------------------------------------------------------------------------
# Compiled selection


def _attributes_predicate(matches: list[AttributeMatch], match_type: MatchType) -> PointPredicate | None:
    if not matches:
        return None
    checks: list[tuple[str, Callable[[Any], bool] | None]] = []
    for m in matches:
        if m.value is None:
            checks.append((m.key, None))
        elif match_type == "regexp":
            regexp = compile_regexp(str(m.value))
            checks.append((m.key, lambda v, r=regexp: isinstance(v, str) and r.search(v) is not None))
        else:
            checks.append((m.key, lambda v, want=m.value: v == want))

    missing = object()

    def predicate(attributes: Mapping[str, Any]) -> bool:
        for key, check in checks:
            value = attributes.get(key, missing)
            if value is missing or (check is not None and not check(value)):
                return False
        return True

    return predicate


class Selector:
    """Names (any of), resource attributes and point attributes (all of); empty conditions match all."""

    def __init__(
        self,
        names: list[str],
        match_type: MatchType = "strict",
        attributes: list[AttributeMatch] | None = None,
        resource_attributes: list[AttributeMatch] | None = None,
        regexp: RegexpConfig | None = None,
    ) -> None:
        full = regexp is not None and regexp.fullmatchrequired
        self.patterns = [NamePattern(n, match_type, full) for n in names]
        self.point_predicate = _attributes_predicate(attributes or [], match_type)
        self.resource_predicate = _attributes_predicate(resource_attributes or [], match_type)
        # Without a `regexp:` block, names are cached up to _CACHE_LIMIT (the result is the same, only faster).
        self.cache_limit = _CACHE_LIMIT if regexp is None else regexp.cache_limit()
        self._names: dict[str, bool] = {}

    def matches_name(self, name: str) -> bool:
        hit = self._names.get(name)
        if hit is None:
            hit = not self.patterns or any(bool(p.match(name)) for p in self.patterns)
            if self.cache_limit == 0:
                return hit
            if self.cache_limit is not None and len(self._names) >= self.cache_limit:
                self._names.pop(next(iter(self._names)))  # the oldest entry
            self._names[name] = hit
        return hit

    def matches_metric(self, name: str, resource_attributes: Mapping[str, Any]) -> bool:
        return self.matches_name(name) and (
            self.resource_predicate is None or self.resource_predicate(resource_attributes)
        )


class Selection:
    """An include/exclude pair; exclude wins. `for_metric` says: every point (True), none (False) or a
    predicate for each point's attributes."""

    def __init__(self, include: Selector | None = None, exclude: Selector | None = None) -> None:
        self.include = include
        self.exclude = exclude

    @classmethod
    def of(cls, include: MatchProperties | MetricsSelector | None, exclude: MatchProperties | MetricsSelector | None):
        return cls(include.selector() if include else None, exclude.selector() if exclude else None)

    @property
    def everything(self) -> bool:
        return self.include is None and self.exclude is None

    def matches_name(self, name: str) -> bool:
        """For name-only selections (cumulativetodelta)."""
        return (self.include is None or self.include.matches_name(name)) and not (
            self.exclude is not None and self.exclude.matches_name(name)
        )

    def for_metric(self, name: str, resource_attributes: Mapping[str, Any]) -> bool | PointPredicate:
        include_points: PointPredicate | None = None
        if self.include is not None:
            if not self.include.matches_metric(name, resource_attributes):
                return False
            include_points = self.include.point_predicate
        exclude_points: PointPredicate | None = None
        if self.exclude is not None and self.exclude.matches_metric(name, resource_attributes):
            exclude_points = self.exclude.point_predicate
            if exclude_points is None:
                return False
        if include_points is None and exclude_points is None:
            return True
        if exclude_points is None:
            return include_points  # type: ignore[return-value]
        if include_points is None:
            return lambda attributes: not exclude_points(attributes)
        return lambda attributes: include_points(attributes) and not exclude_points(attributes)
