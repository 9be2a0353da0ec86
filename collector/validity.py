"""The one check every batch passes where it enters a pipeline: metric names any backend can carry.

A name no exporter can write (empty, not UTF-8, control characters, absurdly long) used to reach the
exporters and break them one by one (an empty name turned every later Prometheus scrape into HTTP 500).
It is dropped here, once, with its points counted, so no exporter has to guess. The rule:

- empty: dropped (`empty_name`); the OTLP data model requires a name.
- not encodable as UTF-8 (lone surrogates, e.g. from a `\\ud800` JSON escape): dropped (`name_not_utf8`).
- a control character (Unicode category Cc: C0, DEL, C1, so also newlines and NUL): dropped
  (`name_control_character`); every text format downstream (Prometheus, EMF JSON keys, logs) breaks on them.
- more than `MAX_NAME_LENGTH` (255) characters: dropped (`name_too_long`). 255 is the OpenTelemetry API's
  instrument-name limit and CloudWatch's metric-name limit; nothing legitimate is longer.

Anything else (dots, spaces, non-ASCII letters) is a valid OTLP name: exporters map it to their own
syntax (the Prometheus translator's underscores, CloudWatch's rules).
"""

from __future__ import annotations

import unicodedata

from opentelemetry.sdk.metrics.export import Metric, MetricsData

from collector.metrics import iter_metrics, map_metrics

MAX_NAME_LENGTH = 255


def name_problem(name: str) -> str | None:
    """The `reason` a metric name is refused for, or None when it is acceptable."""
    if not name:
        return "empty_name"
    if len(name) > MAX_NAME_LENGTH:
        return "name_too_long"
    if name.isprintable():  # the common case, in C: no control, surrogate or unassigned characters
        return None
    categories = {unicodedata.category(c) for c in name}
    if "Cs" in categories:
        return "name_not_utf8"
    if "Cc" in categories:
        return "name_control_character"
    return None  # format characters, non-ASCII spaces, private use: odd but representable


def drop_invalid_names(data: MetricsData) -> tuple[MetricsData, dict[str, int]]:
    """The batch without metrics whose name `name_problem` refuses, and the dropped points per reason.

    A batch with only good names (nearly every batch) is returned as it is, not copied. Each name is checked
    once per batch: a batch of many targets repeats the same few names.
    """
    if all(name_problem(name) is None for name in {metric.name for metric in iter_metrics(data)}):
        return data, {}
    dropped: dict[str, int] = {}

    def keep(metric: Metric) -> Metric | None:
        reason = name_problem(metric.name)
        if reason is None:
            return metric
        dropped[reason] = dropped.get(reason, 0) + len(metric.data.data_points)
        return None

    return map_metrics(data, keep), dropped
