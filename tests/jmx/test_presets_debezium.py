"""The generic `debezium` preset on both real beds (MySQL on MariaDB, PostgreSQL) and on MBeans shaped as
other connectors register them; the shipped pipeline's reference metric for either connector; and the
first-run diagnostic when a preset matches nothing on a reachable target."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from receivers.jmx.config import UP_METRIC, load_preset
from receivers.jmx.diagnostics import PresetDiagnostics, preset_patterns
from receivers.jmx.rules import compile_rules, parse_reply
from tests.jmx import testbed
from tests.jmx.conftest import DebeziumBed, make_receiver, scrape_points
from tests.support import REPO, free_port, run_collector, wait_for

pytestmark = pytest.mark.integration


async def scrape(endpoint: str, target_system: str) -> dict:
    return await scrape_points({"endpoint": endpoint, "target_system": target_system})


def only(data: dict, name: str, **attributes: str) -> tuple[Any, Any]:
    found = [(m, p) for m, p in data[name] if all(dict(p.attributes).get(k) == v for k, v in attributes.items())]
    assert len(found) == 1, (name, attributes, found)
    return found[0]


@pytest.mark.parametrize("bed_name", ["mysql", "postgres"])
async def test_generic_preset_reads_both_real_connectors_as_the_exact_preset_does(
    bed_name: str, request: pytest.FixtureRequest
) -> None:
    bed: DebeziumBed = request.getfixturevalue("debezium" if bed_name == "mysql" else "debezium_postgres")
    server, table = ("salesdb", "sales.customers") if bed_name == "mysql" else ("salespg", "public.customers")
    generic = await scrape(bed.target.endpoint, "debezium")
    exact = await scrape(bed.target.endpoint, f"debezium-{bed_name}")
    direct = testbed.jmx_dump(bed.target.service_url, f"debezium.{bed_name}:*")
    labels = {"server": server, "plugin": bed_name}

    # Every metric of the exact preset comes out of the generic one, same name, type, unit and attributes.
    assert set(exact) <= set(generic)
    for name, points in exact.items():
        if name == UP_METRIC:
            continue
        metric, point = points[0]
        twin, twin_point = only(generic, name, **dict(point.attributes))
        assert (type(twin.data), twin.unit, twin.description) == (type(metric.data), metric.unit, metric.description)
        assert getattr(twin.data, "is_monotonic", None) == getattr(metric.data, "is_monotonic", None)
        assert dict(twin_point.attributes).items() >= labels.items()

    snapshot = f"debezium.{bed_name}:context=snapshot,server={server},type=connector-metrics"
    _, rows = only(generic, "debezium.snapshot.RowsScanned", table=table)
    assert rows.value == int(direct[(snapshot, f"RowsScanned[{table}]")]) == 2
    _, tables = only(generic, "debezium.snapshot.TotalTableCount")
    assert tables.value == int(direct[(snapshot, "TotalTableCount")]) and dict(tables.attributes) == labels
    _, connected = only(generic, "debezium.streaming.Connected")
    assert connected.value == 1
    assert ("debezium.schema_history.Status" in generic) == (bed_name == "mysql")
    assert set(generic) == set(exact)  # the exact presets type every numeric attribute of the real connectors
    assert all(metric.description for points in generic.values() for metric, _ in points if metric.name != UP_METRIC)


OTHER_CONNECTORS = {
    # SQL Server: task and database keys (one MBean per database of a multi-database connector).
    "debezium.sql_server:type=connector-metrics,server=inv,task=0,context=streaming,database=testDB": (
        "Connected,MilliSecondsBehindSource,TotalNumberOfEventsSeen,LastTransactionId=tx-17"
    ),
    # MongoDB: a task key and attributes of its own.
    "debezium.mongodb:type=connector-metrics,context=streaming,server=rs0,task=1": (
        "Connected,NumberOfPrimaryElections,NumberOfDisconnects"
    ),
    # Oracle LogMiner, with a custom.metric.tags key.
    "debezium.oracle:type=connector-metrics,context=streaming,server=ora,team=cdc": (
        "MilliSecondsBehindSource,TotalCapturedDmlCount,CurrentScn=1234"
    ),
}


async def test_generic_preset_reads_any_connector_with_its_keys_and_own_attributes() -> None:
    with testbed.shaped_target(OTHER_CONNECTORS) as target:
        data = await scrape(target.endpoint, "debezium")
    metric, lag = only(data, "debezium.streaming.MilliSecondsBehindSource", plugin="sql_server")
    assert dict(lag.attributes) == {"server": "inv", "plugin": "sql_server", "task": "0", "database": "testDB"}
    assert metric.unit == "ms" and metric.description
    total, events = only(data, "debezium.streaming.TotalNumberOfEventsSeen")
    assert total.data.is_monotonic and events.value >= 2000  # third attribute of its MBean: 2 * 1000 + reads
    _, elections = only(data, "debezium.streaming.NumberOfPrimaryElections")  # MongoDB's own, read as a gauge
    assert dict(elections.attributes) == {"server": "rs0", "plugin": "mongodb", "task": "1"}
    assert type(data["debezium.streaming.NumberOfPrimaryElections"][0][0].data).__name__ == "Gauge"
    _, dml = only(data, "debezium.streaming.TotalCapturedDmlCount")
    assert dict(dml.attributes) == {"server": "ora", "plugin": "oracle", "team": "cdc"}
    # Strings (LastTransactionId, CurrentScn as text) are not numbers: not read, not counted as dropped.
    assert not [name for name in data if name.endswith(("LastTransactionId", "CurrentScn"))]


async def test_a_preset_matching_nothing_is_said_once_with_the_domains_mbeans(
    debezium: DebeziumBed, caplog: pytest.LogCaptureFixture
) -> None:
    """debezium-postgres pointed at the MySQL connector: one warning naming the preset, its patterns and
    what the target has (3 MBeans in debezium.mysql), however many scrapes."""
    receiver = make_receiver({"endpoint": debezium.target.endpoint, "target_system": "debezium-postgres,jvm"})
    try:
        with caplog.at_level(logging.INFO, logger="receivers.jmx.test"):
            for _ in range(3):
                await receiver.scrape()
    finally:
        receiver.gateway.stop()
    said = [r.getMessage() for r in caplog.records if "no MBean matches" in r.getMessage()]
    assert len(said) == 1, said
    assert said[0].startswith("preset debezium-postgres: no MBean matches debezium.postgres:type=connector-metrics")
    direct = testbed.jmx_dump(debezium.target.service_url, "debezium.mysql:*")
    mysql_beans = len({name for name, _ in direct})
    assert said[0].endswith(f"the target has 0 MBeans in debezium.postgres; nearby: debezium.mysql ({mysql_beans})")
    assert not [r for r in caplog.records if "preset jvm" in r.getMessage()]


async def test_the_shipped_preset_on_a_jvm_without_debezium_says_so_once(
    edge_target: testbed.JavaTarget, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = make_receiver({"endpoint": edge_target.endpoint, "target_system": "debezium"})
    try:
        with caplog.at_level(logging.INFO, logger="receivers.jmx.test"):
            await receiver.scrape()
            await receiver.scrape()
    finally:
        receiver.gateway.stop()
    said = [r.getMessage() for r in caplog.records if "no MBean matches" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("preset debezium: no MBean matches debezium.*:type=connector-metrics")
    assert said[0].endswith("the target has 0 MBeans in debezium.*"), said


def test_diagnostics_say_when_a_preset_matches_again() -> None:
    """State changes only: nothing while it matches, one warning, then one line when it matches again."""
    rules = compile_rules(load_preset("debezium-postgres"))
    lines: list[str] = []

    class Capture(logging.LoggerAdapter):
        def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
            lines.append(msg % args)

    diagnostics = PresetDiagnostics(preset_patterns([("debezium-postgres", 2)], rules), Capture(logging.getLogger()))
    matching = parse_reply("UP\nB\t1\tdebezium.postgres:context=streaming,server=s,type=connector-metrics\n")
    empty = parse_reply("UP\n")
    assert diagnostics.pending("t", matching) == []
    [preset] = diagnostics.pending("t", empty)
    diagnostics.report("t", preset, "UP\n")
    assert diagnostics.pending("t", empty) == [] and diagnostics.pending("t", parse_reply("DOWN\tx\n")) == []
    assert diagnostics.pending("t", matching) == []
    assert lines[-1] == "preset debezium-postgres matches MBeans now" and len(lines) == 2


def emf_documents(logs: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"_aws"' in line]


@pytest.mark.parametrize(("bed_name", "connector"), [("postgres", ""), ("mysql", "debezium-mysql")])
def test_shipped_pipeline_writes_the_reference_metric_for_either_connector(
    bed_name: str, connector: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """otel-config.yaml as shipped: the default (generic preset) reads PostgreSQL, the DEBEZIUM_CONNECTOR
    switch picks the exact MySQL preset; both give MilliSecondBehindSource with DBServerName in EMF."""
    bed: DebeziumBed = request.getfixturevalue("debezium" if bed_name == "mysql" else "debezium_postgres")
    server = "salesdb" if bed_name == "mysql" else "salespg"
    table = "sales.customers" if bed_name == "mysql" else "customers"
    bed.db.sql(f"INSERT INTO {table} (name) VALUES ('lag')")  # a streamed event: the lag is known from then on
    config = tmp_path / "otel-config.yaml"
    config.write_text((REPO / "otel-config.yaml").read_text())
    env = {
        "JMX_ENDPOINT": bed.target.endpoint,
        "COLLECTION_INTERVAL": "1s",
        "HEALTH_CHECK_ENDPOINT": f"127.0.0.1:{free_port()}",
        "EMF_OUTPUT": "stdout",
        **({"DEBEZIUM_CONNECTOR": connector} if connector else {}),
    }
    with run_collector(config, env=env) as collector:
        reference = lambda: [d for d in emf_documents(collector.logs()) if "MilliSecondBehindSource" in d]  # noqa: E731
        documents = wait_for(reference, 60, "MilliSecondBehindSource in the EMF output")
        assert collector.stop() == 0, collector.logs()
    document = documents[-1]
    assert document["DBServerName"] == server and document["MilliSecondBehindSource"] >= 0
    assert {"Namespace": "MSK_Connect", "Dimensions": [["DBServerName"]], "Metrics": [
        {"Name": "MilliSecondBehindSource", "Unit": "Milliseconds"}
    ]} in document["_aws"]["CloudWatchMetrics"]  # fmt: skip
    assert "no MBean matches" not in collector.logs()
