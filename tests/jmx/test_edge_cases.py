"""Value mapping against a real JVM with awkward MBeans: null, NaN, booleans, strings, String[], Map,
CompositeData, TabularData and a throwing getter. One bad attribute costs one point, never the scrape."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics.export import Gauge

from collector.telemetry import Telemetry
from tests.jmx import testbed
from tests.jmx.conftest import make_receiver, points_by_name
from tests.support import free_port

pytestmark = pytest.mark.integration

RULES = [
    {
        "bean": "test.edge:type=Edge,*",
        "prefix": "edge.",
        "metricAttribute": {"name": "param(name)", "status": "lowercase(beanattr(Status))"},
        "mapping": {
            "NullLong": None,
            "NanDouble": None,
            "Count": {"type": "counter", "unit": "{call}"},
            "Active": None,
            "Tables.length": {"metric": "tables", "unit": "{table}"},
            "Tables": {"metric": "tables_raw"},
            "Broken": None,
            "PerTable": {"keyAttribute": "table", "type": "counter"},
            "Status": {"type": "state", "metricAttribute": {"state": {"running": "RUNNING", "other": "*"}}},
        },
    },
    {
        "bean": "test.edge:type=EdgeMX",
        "prefix": "edgemx.",
        "mapping": {
            "Usage.used": {"metric": "usage.used", "unit": "By", "type": "updowncounter"},
            "Usage.max": {"metric": "usage.max.kb", "unit": "By"},
            "Rows": None,
            "Maybe": None,
            "MissingSentinel": {"missingValue": -1},
        },
    },
]


def key_of(point) -> str:
    """The attribute that tells a metric's points apart here (table row, map key or state), else ''."""
    attributes = dict(point.attributes)
    return attributes.get("table") or attributes.get("key") or attributes.get("state") or ""


async def test_mapping_of_awkward_values(edge_target: testbed.JavaTarget) -> None:
    telemetry = Telemetry()
    receiver = make_receiver(
        {"endpoint": edge_target.endpoint, "rules": RULES, "resource_attributes": {"service.name": "edge"}},
        telemetry,
    )
    try:
        raw = await receiver.scrape()
        assert dict(raw.resource_metrics[0].resource.attributes) == {
            "service.name": "edge",
            "server.address": "127.0.0.1",  # the target's identity, from `endpoint`
            "server.port": edge_target.port,
        }
        first = points_by_name(raw)
        second = points_by_name(await receiver.scrape())
    finally:
        receiver.gateway.stop()

    values = {name: sorted((key_of(p), p.value) for _, p in entries) for name, entries in second.items()}
    assert values["edge.Active"] == [("", 1)]
    assert values["edge.tables"] == [("", 3)]
    assert values["edge.PerTable"] == [("db.t1", 5), ("db.t2", 7)]
    assert values["edge.Status"] == [("other", 0), ("running", 1)]
    assert values["edgemx.usage.used"] == [("", 2)]
    assert values["edgemx.usage.max.kb"] == [("", 4)]
    assert values["edgemx.Rows"] == [("inventory.customers", 11), ("inventory.orders", 13)]
    assert values["jmx.up"] == [("", 1)]
    # null, NaN, the throwing getter, the raw array and the -1 sentinel give no point; the rest are there.
    for absent in (
        "edge.NullLong",
        "edge.NanDouble",
        "edge.Broken",
        "edge.tables_raw",
        "edgemx.Maybe",
        "edgemx.MissingSentinel",
    ):
        assert absent not in second
    metric, point = second["edge.Count"][0]
    assert metric.data.is_monotonic and metric.unit == "{call}"
    assert point.value > first["edge.Count"][0][1].value  # the getter counts its reads: a fresh value each scrape
    assert point.start_time_unix_nano == first["edge.Count"][0][1].start_time_unix_nano != 0
    assert dict(point.attributes) == {"name": "first", "status": "running"}
    assert isinstance(second["edgemx.usage.max.kb"][0][0].data, Gauge)
    # What was skipped is counted by reason (two scrapes): NaN and the array itself as dropped, the
    # throwing getter as a point the scrape could not read (and only it: jmx.up stays 1).
    dropped = lambda reason: telemetry.value("collector_dropped_metric_points", component="jmx/test", reason=reason)  # noqa: E731
    assert dropped("nan") == 2
    assert dropped("array") == 2
    assert dropped("IllegalStateException") == 0
    errored = telemetry.value(
        "otelcol_scraper_errored_metric_points", receiver="jmx/test", scraper="jmx", reason="IllegalStateException"
    )
    assert errored == 2


async def test_direct_jmx_read_agrees_with_the_mapping(edge_target: testbed.JavaTarget) -> None:
    direct = testbed.jmx_dump(edge_target.service_url, "test.edge:*")
    assert direct[("test.edge:name=first,type=Edge", "Active")] == "true"
    assert direct[("test.edge:type=EdgeMX", "Rows[inventory.orders]")] == "13"
    assert direct[("test.edge:name=first,type=Edge", "NanDouble")] == "NaN"
    assert direct[("test.edge:name=first,type=Edge", "Broken")] == "unreadable"  # for a plain client too


async def test_unreachable_target_reports_jmx_up_zero_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    receiver = make_receiver({"endpoint": f"127.0.0.1:{free_port()}", "target_system": "jvm"})
    try:
        batches = [await receiver.scrape() for _ in range(3)]
    finally:
        receiver.gateway.stop()
    for data in batches:
        assert points_by_name(data)["jmx.up"][0][1].value == 0
        assert set(points_by_name(data)) == {"jmx.up"}
    assert sum("target unreachable" in r.getMessage() for r in caplog.records) == 1


async def test_jvm_preset_reads_semantic_convention_metrics(edge_target: testbed.JavaTarget) -> None:
    receiver = make_receiver({"endpoint": edge_target.endpoint, "target_system": "jvm"})
    try:
        data = points_by_name(await receiver.scrape())
    finally:
        receiver.gateway.stop()
    heap = [p for _, p in data["jvm.memory.used"] if dict(p.attributes)["jvm.memory.type"] == "heap"]
    assert heap and sum(p.value for p in heap) > 0
    assert data["jvm.thread.count"][0][1].value > 1
    assert data["jvm.class.loaded"][0][0].data.is_monotonic
    cpu_metric, cpu = data["jvm.cpu.time"][0]
    assert cpu_metric.unit == "s" and isinstance(cpu.value, float) and 0 < cpu.value < 3600
