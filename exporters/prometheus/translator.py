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


# One resource and scope's label sets: (point attribute items, kind) -> labels, None when not writable.
KeptLabels = dict[tuple[object, ...], Labels | None]


class Translator:
    """The exporter's naming settings, applied to one metric or point."""

    def __init__(self, config: PrometheusConfig) -> None:
        self.config = config
        self.target_info = f"{clean(config.namespace)}_target_info" if config.namespace else "target_info"
        self.copies_resource = bool(config.resource_constant_labels or config.resource_to_telemetry_conversion.enabled)
        self._names: dict[tuple[str, str, str], Name | None] = {}
        # (resource items, scope name, scope version) -> (point attribute items, kind) -> labels
        self._labels: dict[tuple[object, ...], KeptLabels] = {}
        self._labels_kept = 0

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

    def labeler(self, resource: dict[str, Any], scope_name: str, scope_version: str) -> Labeler:
        """The label sets of the points of one resource and scope."""
        context = (tuple(resource.items()), scope_name, scope_version)
        try:
            kept = self._labels.get(context)
        except TypeError:  # a sequence among the resource's values: not hashable, so translated every time
            return Labeler(self, resource, scope_name, scope_version, None)
        if kept is None:
            kept = self._labels[context] = {}
            self._count_kept()
        return Labeler(self, resource, scope_name, scope_version, kept)

    def keep_labels(self, kept: KeptLabels, key: tuple[object, ...], labels: Labels | None) -> None:
        """Keep a label set in its resource and scope's dict (handed out by `labeler`)."""
        kept[key] = labels
        self._count_kept()

    def _count_kept(self) -> None:
        """Bound what `labeler` keeps, all resources and scopes together: start over at CACHE_LIMIT (a
        labeler in use keeps its dict until its batch is done)."""
        self._labels_kept += 1
        if self._labels_kept >= CACHE_LIMIT:
            self._labels.clear()
            self._labels_kept = 0

    def translate_labels(
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


class Labeler:
    """The labels of each point of one resource and scope, worked out once per label set and kept: the
    resource and scope part of the key once per batch, not once per point."""

    def __init__(
        self,
        translator: Translator,
        resource: dict[str, Any],
        scope_name: str,
        scope_version: str,
        kept: KeptLabels | None,
    ) -> None:
        self._translator = translator
        self._context = (resource, scope_name, scope_version)
        self._kept = kept  # None: the resource is not hashable, nothing is kept

    def labels(self, attributes: Any, kind: str) -> Labels | None:
        """The series' labels, or None when one cannot be written (an empty key, text that is not UTF-8,
        `__name__`, `le` on a histogram point). The same dict for the same inputs: never change it."""
        kept = self._kept
        if kept is not None:
            key = (tuple(attributes.items()) if attributes else (), kind)
            try:
                return kept[key]
            except KeyError:
                translated = self._translator.translate_labels(*self._context, attributes, kind)
                self._translator.keep_labels(kept, key, translated)
                return translated
            except TypeError:  # a sequence among the values: not hashable, so translated every time
                pass
        return self._translator.translate_labels(*self._context, attributes, kind)


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
