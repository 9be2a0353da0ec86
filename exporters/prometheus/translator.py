"""One OTLP metric and point -> its Prometheus family, sample name and labels, or the reason it has none.

Done once when a point arrives (not at every scrape), so a point no Prometheus parser would accept is
dropped and counted once, where it enters this exporter, and a scrape only renders what is known good.

Labels on every series: the point's attributes, `job`/`instance` from `service.namespace`/`service.name`
and `service.instance.id`, `otel_scope_name`/`otel_scope_version`, every resource attribute when
`resource_to_telemetry_conversion` is on, then `const_labels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.naming import LABEL_NAME, METRIC_NAME, clean, labels, metric_name

IDENTITY = ("service.name", "service.namespace", "service.instance.id")
RESERVED_LABELS = frozenset({"__name__"})  # the metric name itself, in the exposition's label syntax

# What each kind's samples are called, after the family name: a later family whose names overlap an
# earlier one's is a clash the OpenMetrics parser refuses ("Clashing name").
SUFFIXES = {
    "gauge": ("",),
    "counter": ("", "_total", "_created"),
    "histogram": ("", "_bucket", "_count", "_sum", "_created"),
}
# Names and label sets translated and kept, so that each is worked out once, not once per point (a scrape
# repeats them); both caches start over when they hold this many.
CACHE_LIMIT = 65536


def job_and_instance(resource: dict[str, Any]) -> dict[str, str]:
    result = {}
    if "service.name" in resource:
        namespace = resource.get("service.namespace")
        result["job"] = f"{namespace}/{resource['service.name']}" if namespace else str(resource["service.name"])
    if "service.instance.id" in resource:
        result["instance"] = str(resource["service.instance.id"])
    return result


def target_labels(resource: dict[str, Any]) -> dict[str, str]:
    """The `target_info` labels of a resource: its attributes other than the identity, plus job/instance;
    an attribute no label can carry (an empty key, text that is not UTF-8) is left out."""
    result = {**labels({k: v for k, v in resource.items() if k not in IDENTITY}), **job_and_instance(resource)}
    return {key: value for key, value in result.items() if _writable(key, value)}


@dataclass(frozen=True)
class Name:
    family: str  # the family's name: for counters without `_total`
    text: str  # the main sample's name in the Prometheus text format (a counter's keeps the OTLP choice)


class Labels(dict[str, str]):
    """A series' labels with `key`, their sorted items: the series' identity in the exporter, worked out once
    with the labels (they are kept for the same inputs) instead of sorted again for every point."""

    key: tuple[tuple[str, str], ...]


class Translator:
    """The exporter's naming settings, applied to one metric or point."""

    def __init__(self, config: PrometheusConfig) -> None:
        self.config = config
        self.target_info = f"{clean(config.namespace)}_target_info" if config.namespace else "target_info"
        self.copies_resource = bool(config.resource_constant_labels or config.resource_to_telemetry_conversion.enabled)
        self._names: dict[tuple[str, str, str], Name | None] = {}
        self._labels: dict[tuple[object, ...], Labels | None] = {}

    def resource_labels(self, resource: dict[str, Any]) -> dict[str, Any]:
        """The resource attributes copied onto every series: resource_constant_labels' choice when set,
        else all of them (resource_to_telemetry_conversion), maybe without the service identity."""
        selection = self.config.resource_constant_labels
        if selection is not None:
            return {k: v for k, v in resource.items() if selection.selects(k)}
        if self.config.resource_to_telemetry_conversion.exclude_service_attributes:
            return {k: v for k, v in resource.items() if k not in IDENTITY}
        return resource

    def name(self, otlp_name: str, unit: str, kind: str) -> Name | None:
        """None when the name has nothing Prometheus can write (e.g. only punctuation)."""
        key = (otlp_name, unit, kind)
        if key not in self._names:
            _remember(self._names, key, self._name(otlp_name, unit, kind))
        return self._names[key]

    def _name(self, otlp_name: str, unit: str, kind: str) -> Name | None:
        config = self.config
        text = metric_name(
            otlp_name,
            unit,
            counter=kind == "counter",
            gauge=kind == "gauge",
            namespace=config.namespace,
            suffixes=config.suffixes,
        )
        family = text.removesuffix("_total") if kind == "counter" else text
        if not METRIC_NAME.fullmatch(family):
            return None
        return Name(family, text)

    def labels(
        self, resource: dict[str, Any], scope_name: str, scope_version: str, attributes: Any, kind: str
    ) -> Labels | None:
        """The series' labels, or None when one cannot be written (an empty key, text that is not UTF-8,
        `__name__`, `le` on a histogram point). The same dict for the same inputs: never change it."""
        key = (
            tuple(resource.items()),
            scope_name,
            scope_version,
            tuple(attributes.items()) if attributes else (),
            kind,
        )
        try:
            if key in self._labels:
                return self._labels[key]
        except TypeError:  # a sequence among the values: not hashable, so translated every time
            return self._translate_labels(resource, scope_name, scope_version, attributes, kind)
        translated = self._translate_labels(resource, scope_name, scope_version, attributes, kind)
        _remember(self._labels, key, translated)
        return translated

    def _translate_labels(
        self, resource: dict[str, Any], scope_name: str, scope_version: str, attributes: Any, kind: str
    ) -> Labels | None:
        result = labels(self.resource_labels(resource)) if self.copies_resource else {}
        result.update(labels(dict(attributes or {})))
        if kind == "histogram" and "le" in result:
            return None
        if not self.config.without_scope_info:
            if scope_name:
                result["otel_scope_name"] = scope_name
            if scope_version:
                result["otel_scope_version"] = scope_version
        result.update(job_and_instance(resource))
        result.update(self.config.const_labels)
        if not all(_writable(key, value) for key, value in result.items()):
            return None
        translated = Labels(result)
        translated.key = tuple(sorted(result.items()))
        return translated


def _remember(cache: dict[Any, Any], key: object, value: object) -> None:
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _writable(key: str, value: str) -> bool:
    if not LABEL_NAME.fullmatch(key) or key in RESERVED_LABELS:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. from a `\ud800` JSON escape
        return False
    return True
