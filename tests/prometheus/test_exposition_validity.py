"""Every scrape is valid for the real parsers, in every option combination, whatever arrives.

Oracles: prometheus-client's Prometheus text parser and its (strict) OpenMetrics parser, and the
Prometheus project's own `promtool check metrics` (installed by scripts/install-test-servers.d/promtool.sh).
The input is deliberately hostile: names that collide after translation, counters beside gauges named
like their samples, label keys that need the translator's `key_` prefix or cannot be labels at all,
label values that need escaping, counters that are NaN or negative, histograms that contradict
themselves or have negative bounds, a metric called `target_info`.
"""

from __future__ import annotations

import itertools

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from collector import testing
from collector.testing import CUMULATIVE, DELTA, Exemplar, InstrumentationScope, Metric, MetricsData, create
from exporters.prometheus import factory, families
from tests.prometheus.promtool import promtool_errors

S = 1_000_000_000
T0 = 1_700_000_000 * S


def gauge(name: str, value: float, attributes: dict | None = None, unit: str = "") -> Metric:
    return testing.gauge(name, value, attributes=attributes, time=T0, unit=unit, description="a gauge")


def counter(name: str, value: float, attributes: dict | None = None, unit: str = "", temporality=CUMULATIVE) -> Metric:
    exemplar = Exemplar({}, 1.0, T0, span_id=0xAB, trace_id=0xCD)
    point = testing.number_point(value, attributes, start=T0 - 60 * S, time=T0, exemplars=[exemplar])
    help_text = 'help with "quotes", a \\ and\na newline'
    return testing.sum_metric(name, point, temporality=temporality, unit=unit, description=help_text)


def histogram(name: str, bounds, counts, total, attributes: dict | None = None) -> Metric:
    point = testing.histogram_point(counts, bounds, total, attributes, start=T0 - 60 * S, time=T0)
    return testing.histogram(name, point, unit="s")


def hostile_batch() -> MetricsData:
    odd_labels = {
        "0day": "leading digit",  # -> key_0day
        "_private": "single underscore",  # -> key_private
        "__meta": "reserved by Prometheus",  # -> key__meta
        ".dot": "punctuation",  # -> key_dot
        "é": "non-ASCII key",  # -> `_` -> key_
        "value": 'quote " backslash \\ newline \n unicode ü',
    }
    metrics = [
        gauge("debezium.streaming.MilliSecondsBehindSource", 1500, {"server": "inventory"}, "ms"),
        gauge("a.b", 1, {"k": "v"}),
        gauge("a_b", 2, {"k": "v"}),  # the same Prometheus series as a.b: merged, not written twice
        counter("requests", 10, {"k": "v"}),  # suffix-less counter: `_total` still in OpenMetrics
        counter("requests_total_gauge_clash", 1),
        gauge("requests_total", 5),  # clashes with the counter `requests`' sample: dropped
        gauge("requests", 5),  # another type under the counter's name: dropped
        histogram("latency", (0.1, 1.0), (1, 2, 3), 4.2),
        gauge("latency_seconds_count", 7),  # clashes with the histogram's _count: dropped
        histogram("below.zero", (-5.0, 0.0, 5.0), (1, 1, 1, 1), -3.5),  # no _sum/_count in OpenMetrics
        histogram("contradiction", (1.0, 2.0), (1, 1), 1.0),  # fewer counts than bounds + 1: dropped
        histogram("with.le", (1.0,), (1, 1), 1.0, {"le": "x"}),  # an `le` attribute on a histogram: dropped
        counter("negative.counter", -1),  # dropped
        counter("nan.counter", float("nan")),  # dropped
        counter("delta.counter", 3, temporality=DELTA),
        gauge("special.values", float("nan")),
        gauge("infinite", float("inf")),
        gauge("odd.labels", 1, odd_labels),
        gauge("empty.key", 1, {"": "x"}),  # a label with no name: dropped
        gauge("débit", 3),  # non-ASCII name: escaped
        gauge("...", 1),  # nothing left after translation: dropped
        gauge("target_info", 1),  # the exporter's own family: dropped
        gauge("2xx", 1),
    ]
    resource = {
        "service.name": "connect",
        "service.namespace": "cdc",
        "service.instance.id": "w-1",
        "host.name": "h",
        "": "x",
    }
    return testing.metrics_data(*metrics, resource=resource, scope=InstrumentationScope("collector.jmx", "1.0"))


OPTIONS = {
    "add_metric_suffixes": (True, False),
    "resource_to_telemetry_conversion": ({"enabled": False}, {"enabled": True}),
    "namespace": ("", "my-ns"),
    "const_labels": ({}, {"another label": "spaced value"}),
    "send_timestamps": (False, True),
    "without_scope_info": (False, True),
}
COMBINATIONS = [dict(zip(OPTIONS, values, strict=True)) for values in itertools.product(*OPTIONS.values())]


@pytest.mark.parametrize("options", COMBINATIONS, ids=lambda o: "-".join(f"{k[:6]}={bool(v)}" for k, v in o.items()))
def test_every_option_combination_parses_in_both_formats(options):
    exporter = create(factory, {**options, "enable_open_metrics": True})
    exporter.accumulator.accumulate(hostile_batch())
    exporter.accumulator.accumulate(hostile_batch())  # the same again: no duplicate series, no drift

    text = exporter.render(openmetrics=False).decode()
    families = list(parse_text(text))
    names = [f.name for f in families]
    assert len(names) == len(set(names)), text
    samples = [(s.name, tuple(sorted(s.labels.items()))) for f in families for s in f.samples]
    assert len(samples) == len(set(samples)), "a series written twice"
    assert promtool_errors(text) == "", text

    openmetrics = exporter.render(openmetrics=True).decode()
    om_families = {f.name: f for f in parse_openmetrics(openmetrics)}  # raises on anything invalid
    prefix = "my_ns_" if options["namespace"] else ""
    requests = om_families[f"{prefix}requests"]
    assert requests.type == "counter" and {s.name for s in requests.samples} == {
        f"{prefix}requests_total",
        f"{prefix}requests_created",
    }

    reasons = ["name_conflict", "invalid_label", "invalid_counter_value", "invalid_histogram"]
    if not options["namespace"]:
        reasons.append("invalid_name")  # `...` alone has no name; with a namespace it is `my_ns`
    telemetry = exporter.settings.telemetry
    dropped = {
        reason: telemetry.value("collector_dropped_metric_points", component="prometheus", reason=reason)
        for reason in reasons
    }
    assert all(count > 0 for count in dropped.values()), dropped


def test_suffixes_off_writes_the_collector_text_name_and_openmetrics_total():
    exporter = create(factory, {"add_metric_suffixes": False})
    exporter.accumulator.accumulate(hostile_batch())
    text = exporter.render(openmetrics=False).decode()
    assert "# TYPE requests counter\nrequests{" in text  # as the Collector writes it: no _total
    (requests,) = [f for f in parse_openmetrics(exporter.render(openmetrics=True).decode()) if f.name == "requests"]
    assert {s.name for s in requests.samples} >= {"requests_total"}


def test_translator_label_rules():
    exporter = create(factory)
    exporter.accumulator.accumulate(hostile_batch())
    (family,) = [f for f in parse_text(exporter.render(openmetrics=False).decode()) if f.name == "odd_labels"]
    labels = family.samples[0].labels
    assert labels["key_0day"] == "leading digit"
    assert labels["key_private"] == "single underscore"
    assert labels["key__meta"] == "reserved by Prometheus"
    assert labels["key_dot"] == "punctuation"
    assert labels["key_"] == "non-ASCII key"
    assert labels["value"] == 'quote " backslash \\ newline \n unicode ü'
    merged = [f for f in parse_text(exporter.render(openmetrics=False).decode()) if f.name == "a_b"]
    assert [s.value for s in merged[0].samples] == [2.0]  # a.b and a_b: one series, the later value


def test_translation_strategy_wins_over_add_metric_suffixes():
    config = {"add_metric_suffixes": True, "translation_strategy": "UnderscoreEscapingWithoutSuffixes"}
    exporter = create(factory, config)
    exporter.accumulator.accumulate(hostile_batch())
    names = {f.name for f in parse_text(exporter.render(openmetrics=False).decode())}
    assert "debezium_streaming_MilliSecondsBehindSource" in names
    assert "debezium_streaming_MilliSecondsBehindSource_milliseconds" not in names


def test_resource_constant_labels_select_resource_attributes():
    labels = {"included": ["host.*", "service*"], "excluded": ["service.instance.id"]}
    exporter = create(factory, {"resource_constant_labels": labels})
    exporter.accumulator.accumulate(hostile_batch())
    (family,) = [f for f in parse_text(exporter.render(openmetrics=False).decode()) if f.name == "infinite"]
    labels = family.samples[0].labels
    assert labels["host_name"] == "h" and labels["service_name"] == "connect" and "service_instance_id" not in labels


def test_a_family_the_writer_fails_on_is_left_out_and_counted_not_a_500(monkeypatch):
    """The last line of defence: should writing one family ever fail (a bug, not bad input), the scrape
    still answers with every other family, in both formats."""
    exporter = create(factory)
    exporter.accumulator.accumulate(hostile_batch())
    text_writer, om_writer = families._text_family, families.generate_openmetrics

    def failing_text(family):
        if family.name == "a_b":
            raise ValueError("writer bug")
        return text_writer(family)

    def failing_openmetrics(registry):
        if registry.family.name == "a_b":
            raise ValueError("writer bug")
        return om_writer(registry)

    monkeypatch.setattr(families, "_text_family", failing_text)
    monkeypatch.setattr(families, "generate_openmetrics", failing_openmetrics)
    names = {f.name for f in parse_text(exporter.render(openmetrics=False).decode())}
    assert "a_b" not in names and "debezium_streaming_MilliSecondsBehindSource_milliseconds" in names
    om_names = {f.name for f in parse_openmetrics(exporter.render(openmetrics=True).decode())}
    assert "a_b" not in om_names and "requests" in om_names
    telemetry = exporter.settings.telemetry
    assert telemetry.value("collector_dropped_metric_points", component="prometheus", reason="unwritable_family") == 2
