"""Name and label translation follows the Collector's Prometheus translator."""

from __future__ import annotations

import pytest

from exporters.prometheus import translator
from exporters.prometheus.config import PrometheusConfig
from exporters.prometheus.naming import label_name, label_value, labels, metric_name
from exporters.prometheus.translator import Translator


@pytest.mark.parametrize(
    ("name", "unit", "kind", "expected"),
    [
        (
            "debezium.streaming.MilliSecondsBehindSource",
            "ms",
            "gauge",
            "debezium_streaming_MilliSecondsBehindSource_milliseconds",
        ),
        (
            "debezium.streaming.TotalNumberOfEventsSeen",
            "{event}",
            "counter",
            "debezium_streaming_TotalNumberOfEventsSeen_total",
        ),
        ("system.cpu.utilization", "1", "gauge", "system_cpu_utilization_ratio"),
        ("system.cpu.utilization", "1", "counter", "system_cpu_utilization_total"),
        ("http.server.duration", "s", "histogram", "http_server_duration_seconds"),
        ("network.io", "By/s", "gauge", "network_io_bytes_per_second"),
        ("packets", "{packet}/s", "gauge", "packets_per_second"),
        ("requests.total", "", "counter", "requests_total"),
        ("latency_seconds", "s", "gauge", "latency_seconds"),
        ("disk..free__space", "MiBy", "gauge", "disk_free_space_mebibytes"),
        ("2xx.responses", "", "counter", "_2xx_responses_total"),
        ("temp", "Cel", "gauge", "temp_celsius"),
        ("odd", "foo/bar", "gauge", "odd_foo_per_bar"),
    ],
)
def test_metric_names(name, unit, kind, expected):
    assert metric_name(name, unit, counter=kind == "counter", gauge=kind == "gauge") == expected


def test_namespace_and_no_suffixes():
    assert metric_name("a.b", "ms", counter=True, gauge=False, namespace="my-ns") == "my_ns_a_b_milliseconds_total"
    assert metric_name("a.b", "ms", counter=True, gauge=False, suffixes=False) == "a_b"
    assert metric_name("a:b_c", "ms", counter=False, gauge=True, namespace="ns", suffixes=False) == "ns_a:b_c"


@pytest.mark.parametrize(
    ("key", "expected"),
    [("server", "server"), ("host.name", "host_name"), ("0day", "key_0day"), ("_private", "key_private"),
     ("__meta", "key__meta"), ("a-b/c", "a_b_c")],
)  # fmt: skip
def test_label_names(key, expected):
    assert label_name(key) == expected


def test_label_values_and_collisions():
    assert [label_value(v) for v in ("x", True, 3, 0.5, (1, 2), ("a",))] == ["x", "true", "3", "0.5", "[1,2]", '["a"]']
    assert labels({"a.b": "1", "a_b": "2", "c": 3}) == {"a_b": "1;2", "c": "3"}


def test_translations_are_kept_and_stay_what_a_fresh_translator_gives(monkeypatch):
    """Names and label sets are translated once and kept (a scrape repeats them): a repeat, a list value
    (not hashable, so never kept), a refused label set and a cache that filled up all give what a
    translator that never saw them gives."""
    monkeypatch.setattr(translator, "CACHE_LIMIT", 3)
    kept = Translator(PrometheusConfig())
    resource = {"service.name": "svc", "server.port": 7098}
    cases = [
        ({"table": "t1"}, "gauge"),
        ({"table": "t1"}, "gauge"),
        ({"tables": ["t1", "t2"]}, "gauge"),
        ({"le": "1"}, "histogram"),  # refused: None, also on repeat
        ({"le": "1"}, "histogram"),
        ({"table": "t2"}, "counter"),
        ({"table": "t3"}, "counter"),  # the cache is full here and starts over
        ({"table": "t1"}, "gauge"),
    ]
    for attributes, kind in cases:
        fresh = Translator(PrometheusConfig())
        assert kept.labeler(resource, "scope", "1").labels(attributes, kind) == fresh.labeler(
            resource, "scope", "1"
        ).labels(attributes, kind)
        assert kept.name("db.lag", "ms", kind) == fresh.name("db.lag", "ms", kind)
    assert kept.labeler(resource, "scope", "1").labels({"le": "1"}, "histogram") is None
    listed = {**resource, "hosts": ["a", "b"]}  # a resource that is not hashable: translated every time
    assert kept.labeler(listed, "scope", "1").labels({"table": "t1"}, "gauge") == Translator(
        PrometheusConfig()
    ).labeler(listed, "scope", "1").labels({"table": "t1"}, "gauge")
    assert kept.labeler(resource, "scope", "1").labels({"table": "t1"}, "gauge") == {
        "table": "t1",
        "otel_scope_name": "scope",
        "otel_scope_version": "1",
        "job": "svc",
    }
