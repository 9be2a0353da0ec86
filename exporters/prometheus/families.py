"""Accumulated series -> the scrape's body, in the Prometheus text format or OpenMetrics.

The accumulator only holds series the translator accepted and the family table admitted (one family
per name, no clashing sample names), so this module only arranges and writes. Each family is still
written on its own, and one that fails to write (a bug, not bad input) is left out and counted, so one
family can never turn a scrape into an HTTP 500.

Format differences handled here:
- Counters: OpenMetrics requires the `_total` sample whatever `add_metric_suffixes` says; the text
  format writes the translator's name (with `add_metric_suffixes: false`, the OTLP name as it was, as
  the Collector does), and its `# TYPE` line names that same sample.
- `_created` series (a counter's or histogram's start time) exist only in OpenMetrics.
- A histogram with a negative bound, or a negative or NaN sum, has no `_sum` (and so no `_count`) in
  OpenMetrics, which forbids them there; the text format keeps both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from opentelemetry.sdk.metrics.export import HistogramDataPoint
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.samples import Exemplar
from prometheus_client.samples import Timestamp as PromTimestamp
from prometheus_client.utils import floatToGoString

from exporters.prometheus.accumulator import Series
from exporters.prometheus.translator import target_labels

_OPENMETRICS_EOF = b"# EOF\n"


class _One:
    """A one-family 'registry' for prometheus-client's writers, which take anything with `collect`."""

    def __init__(self, family: Metric) -> None:
        self.family = family

    def collect(self) -> Iterator[Metric]:
        yield self.family


def build_families(
    series: Iterable[Series], target_info: str, *, openmetrics: bool, send_timestamps: bool
) -> list[Metric]:
    """One prometheus-client family per name, `target_info` first (one series per job/instance)."""
    families: dict[str, Metric] = {}
    text_names: dict[str, str] = {}  # a counter family's sample name in the text format: its first series'
    targets: dict[tuple, dict[str, str]] = {}
    for one in series:
        family = families.get(one.name.family)
        if family is None:
            family = families[one.name.family] = Metric(one.name.family, one.description, one.kind)
            text_names[one.name.family] = one.name.text
        identity = {k: one.labels[k] for k in ("job", "instance") if k in one.labels}
        if identity:
            targets.setdefault(tuple(sorted(identity.items())), target_labels(one.resource))
        counter_name = f"{family.name}_total" if openmetrics else text_names[family.name]
        _add(family, one, counter_name, openmetrics, send_timestamps)
    result = []
    if targets:
        info = Metric(target_info, "Target metadata", "gauge")
        for target in targets.values():
            info.add_sample(target_info, target, 1.0)
        result.append(info)
    result.extend(families.values())
    return result


def render(families: list[Metric], *, openmetrics: bool, on_error: Callable[[Metric, Exception], None]) -> bytes:
    """The scrape's body; a family that cannot be written is left out and reported to `on_error`."""
    parts = []
    for family in families:
        try:
            if openmetrics:
                parts.append(generate_openmetrics(_One(family)).removesuffix(_OPENMETRICS_EOF))
            else:
                parts.append(_text_family(family))
        except Exception as exc:
            on_error(family, exc)
    if openmetrics:
        parts.append(_OPENMETRICS_EOF)
    return b"".join(parts)


def _text_family(family: Metric) -> bytes:
    """The Prometheus text format (0.0.4). Written here rather than by prometheus-client, whose writer
    always names a counter's `# TYPE` line `<name>_total`, which contradicts a counter sample written
    without `_total` (`add_metric_suffixes: false`)."""
    typed = family.samples[0].name if family.type == "counter" and family.samples else family.name
    lines = [f"# HELP {typed} {_escape_help(family.documentation)}", f"# TYPE {typed} {family.type}"]
    for sample in family.samples:
        labels = ",".join(f'{k}="{_escape_value(v)}"' for k, v in sorted(sample.labels.items()))
        line = f"{sample.name}{{{labels}}}" if labels else sample.name
        line += f" {floatToGoString(sample.value)}"
        if sample.timestamp is not None:
            line += f" {int(float(sample.timestamp) * 1000)}"
        lines.append(line)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _add(family: Metric, series: Series, counter_name: str, openmetrics: bool, send_timestamps: bool) -> None:
    point, labels = series.point, series.labels
    timestamp = _timestamp(point.time_unix_nano) if send_timestamps else None
    if isinstance(point, HistogramDataPoint):  # series.kind == "histogram"
        _histogram(family, point, labels, timestamp, openmetrics)
    elif series.kind == "gauge":
        family.add_sample(family.name, labels, float(point.value), timestamp)
        return
    else:
        exemplar = _exemplar(point.exemplars[-1]) if openmetrics and point.exemplars else None
        family.add_sample(counter_name, labels, float(point.value), timestamp, exemplar)
    if openmetrics and point.start_time_unix_nano:
        family.add_sample(f"{family.name}_created", labels, point.start_time_unix_nano / 1e9, timestamp)


def _histogram(family: Metric, point: Any, labels: dict[str, str], timestamp: Any, openmetrics: bool) -> None:
    bounds = [*point.explicit_bounds, math.inf]
    exemplars = _bucket_exemplars(point, bounds) if openmetrics else [None] * len(bounds)
    cumulative = 0
    for bound, count, exemplar in zip(bounds, point.bucket_counts, exemplars, strict=True):
        cumulative += count
        le = "+Inf" if bound == math.inf else repr(float(bound))
        family.add_sample(f"{family.name}_bucket", {**labels, "le": le}, float(cumulative), timestamp, exemplar)
    total = point.sum
    if openmetrics and (total is None or not total >= 0 or bounds[0] < 0):
        return  # OpenMetrics: no _sum with negative buckets or a negative sum, and no _count without _sum
    family.add_sample(f"{family.name}_count", labels, float(point.count), timestamp)
    if total is not None:
        family.add_sample(f"{family.name}_sum", labels, float(total), timestamp)


def _timestamp(nanos: int) -> PromTimestamp:
    return PromTimestamp(nanos // 1_000_000_000, nanos % 1_000_000_000)


def _exemplar(exemplar: Any) -> Exemplar:
    ids = {}
    if exemplar.trace_id:
        ids["trace_id"] = f"{exemplar.trace_id:032x}"
    if exemplar.span_id:
        ids["span_id"] = f"{exemplar.span_id:016x}"
    return Exemplar(ids, float(exemplar.value), exemplar.time_unix_nano / 1e9 if exemplar.time_unix_nano else None)


def _bucket_exemplars(point: Any, bounds: list[float]) -> list[Exemplar | None]:
    """The largest exemplar in each bucket (the spec's rule for pull endpoints)."""
    best: list[Any] = [None] * len(bounds)
    for exemplar in point.exemplars or []:
        index = next((i for i, bound in enumerate(bounds) if exemplar.value <= bound), len(bounds) - 1)  # NaN: last
        if best[index] is None or exemplar.value > best[index].value:
            best[index] = exemplar
    return [_exemplar(e) if e is not None else None for e in best]
