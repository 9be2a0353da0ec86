"""How many CloudWatch custom metrics EMF documents create, and what `collector validate` says about
a config's. The count comes from documents the real encoder writes, so it cannot drift from it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.sdk.metrics.export import Gauge, Metric, MetricsData, NumberDataPoint, ResourceMetrics, ScopeMetrics
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope

from common.aws.cardinality import UNKNOWN, per_target
from exporters.awsemf.encoder import EmfEncoder
from exporters.awsemf.format import EmfFormatConfig

CustomMetric = tuple[str, str, tuple[tuple[str, str], ...]]  # namespace, metric name, dimension values
_METACHARACTERS = frozenset(".^$*+?{}[]|()\\")


def custom_metrics(documents: Iterable[Mapping[str, Any]]) -> set[CustomMetric]:
    """Every namespace, metric and dimension-value set the documents' directives name: what CloudWatch
    bills as one custom metric each."""
    found: set[CustomMetric] = set()
    for document in documents:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dims in directive["Dimensions"]:
                key = tuple((d, document[d]) for d in dims)
                for metric in directive["Metrics"]:
                    found.add((directive["Namespace"], metric["Name"], key))
    return found


def literal_name(selector: str) -> str | None:
    """The metric name a selector spells without regex features (`^a\\.b$`, `a.b` is not), else None."""
    body = selector.removeprefix("^")
    if body.endswith("$") and not body.endswith("\\$"):
        body = body[:-1]
    name, escaped = [], False
    for char in body:
        if escaped:
            if char.isalnum():
                return None  # \d, \w ...: a character class
            name.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _METACHARACTERS:
            return None
        else:
            name.append(char)
    return "".join(name) if name and not escaped else None


def describe_cost(config: EmfFormatConfig, metric_names: frozenset[str] | None) -> str:
    """Custom metrics per target, or why the config alone cannot tell."""
    if not config.metric_declarations:
        return UNKNOWN + "without metric_declarations every metric and label set becomes custom metrics"
    if any(decl.label_matchers for decl in config.metric_declarations):
        return UNKNOWN + "label_matchers select metrics by label values"
    if config.dimension_rollup_option != "NoDimensionRollup":
        return UNKNOWN + f"{config.dimension_rollup_option} adds a dimension set per label the points carry"
    if metric_names is None:
        selectors = [s for decl in config.metric_declarations for s in decl.metric_name_selectors]
        regexes = [s for s in selectors if literal_name(s) is None]
        if regexes:
            return UNKNOWN + (
                f"metric_name_selectors '{regexes[0]}' is a regular expression and the receivers of its "
                "pipelines do not list their metric names"
            )
        metric_names = frozenset(filter(None, map(literal_name, selectors)))
    found = custom_metrics(_documents(config, metric_names))
    dimensions = sorted({d for _, _, key in found for d, _ in key})
    return per_target(len(found), ", ".join(dimensions) or "no dimension")


def _documents(config: EmfFormatConfig, metric_names: frozenset[str]) -> list[dict[str, Any]]:
    """What the encoder writes for one point of each metric carrying every declared dimension."""
    labels = {d: "value" for decl in config.metric_declarations for dims in decl.dimensions for d in dims}
    now = time.time_ns()
    metrics = [Metric(name, "", "", Gauge([NumberDataPoint(labels, 0, now, 0)])) for name in sorted(metric_names)]
    scope = ScopeMetrics(InstrumentationScope("collector validate"), metrics, "")
    data = MetricsData([ResourceMetrics(Resource({}), [scope], "")])
    encoder = EmfEncoder(config, lambda reason, points: None)
    return [json.loads(event.message) for event in encoder.encode(data)]
