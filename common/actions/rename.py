"""Metric renames and the guard that refuses a rename onto a metric of another type or unit.

Shared by the `rename` and `metricstransform` processors.
"""

from __future__ import annotations

import dataclasses
import re

from opentelemetry.sdk.metrics.export import Metric

from collector.component import Component
from common.matching import NamePattern, expand_template

_CACHE_LIMIT = 10_000


class Renamer:
    """(pattern, new_name) rules, first match wins; regexp rules expand `$1`/`${name}` in new_name."""

    def __init__(self, rules: list[tuple[NamePattern, str]]) -> None:
        self.rules = rules
        self._cache: dict[str, str | None] = {}

    def new_name(self, name: str) -> str | None:
        """The name `name` becomes, or None when no rule matches."""
        if name in self._cache:
            return self._cache[name]
        result = None
        for pattern, template in self.rules:
            match = pattern.match(name)
            if match:
                result = expand_template(template, match) if isinstance(match, re.Match) else template
                break
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[name] = result
        return result


def signature(metric: Metric) -> tuple[str, str, bool | None, int | None]:
    """What must agree for two metrics to share a name: kind, unit, monotonicity, temporality."""
    body = metric.data
    temporality = getattr(body, "aggregation_temporality", None)
    return (
        type(body).__name__.lower(),
        metric.unit,
        getattr(body, "is_monotonic", None),
        None if temporality is None else int(temporality),
    )


def describe(sig: tuple[str, str, bool | None, int | None]) -> str:
    kind, unit, monotonic, _ = sig
    shape = f"{'monotonic ' if monotonic else 'non-monotonic ' if monotonic is False else ''}{kind}"
    return f"{shape} with unit {unit!r}"


class RenameGuard:
    """Remembers what each output name stands for and refuses renames that would mix two metrics.

    A metric that keeps its name always wins: it is recorded first (`observe`), and a renamed metric
    whose target name stands for another kind or unit is dropped, counted as
    `collector_dropped_metric_points{reason="rename_conflict"}` and logged once per pair.
    """

    def __init__(self, component: Component) -> None:
        self.component = component
        self.dropped = component.settings.telemetry.dropped_points.labels(
            component=component.id, reason="rename_conflict"
        )
        self._names: dict[str, tuple[str, str, bool | None, int | None]] = {}
        self._logged: set[tuple[str, str]] = set()

    def observe(self, metric: Metric) -> None:
        self._names[metric.name] = signature(metric)

    def rename(self, metric: Metric, new_name: str) -> Metric | None:
        """`metric` under `new_name`, or None (dropped and counted) when that would be a silent merge."""
        sig = signature(metric)
        existing = self._names.setdefault(new_name, sig)
        if existing != sig:
            self.dropped.inc(len(metric.data.data_points))
            if (metric.name, new_name) not in self._logged:
                self._logged.add((metric.name, new_name))
                self.component.logger.error(
                    "cannot rename metric %r (%s) to %r: metric %r already exists as %s; dropping %r points",
                    metric.name,
                    describe(sig),
                    new_name,
                    new_name,
                    describe(existing),
                    metric.name,
                )
            return None
        return dataclasses.replace(metric, name=new_name)
