"""The real Debezium MySQL connector against real MariaDB: what the collector writes (file exporter)
equals what a plain JDK JMX client reads, and scraping survives a restarted connector JVM."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.jmx import testbed
from tests.jmx.conftest import DebeziumBed, streaming_connected
from tests.support import CollectorProcess, Point, read_points, run_collector, wait_for, write_config

pytestmark = pytest.mark.integration
SERVER = "salesdb"


def collector_config(
    directory: Path, endpoint: str, out: Path, interval: str = "1s", target_system: str = "debezium-mysql"
) -> Path:
    return write_config(
        directory,
        {
            "receivers": {
                "jmx/debezium": {
                    "endpoint": endpoint,
                    "target_system": target_system,
                    "collection_interval": interval,
                    "initial_delay": "0s",
                }
            },
            "exporters": {"file": {"path": str(out)}},
            "service": {"pipelines": {"metrics": {"receivers": ["jmx/debezium"], "exporters": ["file"]}}},
        },
    )


def running_points(collector: CollectorProcess, out: Path) -> list[Point]:
    """What the file exporter wrote so far; fails at once (with the logs) if the collector has exited."""
    assert collector.process.poll() is None, f"the collector exited:\n{collector.logs()}"
    return read_points(out)


def collect_two_scrapes(directory: Path, endpoint: str, target_system: str) -> list[Point]:
    """What the real collector writes (file exporter) until it has scraped the streaming MBean twice."""
    out = directory / "out.jsonl"
    with run_collector(collector_config(directory, endpoint, out, target_system=target_system)) as collector:
        wait_for(
            lambda: (
                len({p.time for p in running_points(collector, out) if p.name == "debezium.streaming.Connected"}) >= 2
            ),
            60,
            "two scrapes of the streaming MBean",
        )
        assert collector.stop() == 0, collector.logs()
    return read_points(out)


def latest(points: list[Point], name: str, **attributes: str) -> Point | None:
    matching = [p for p in points if p.name == name and all(p.attributes.get(k) == v for k, v in attributes.items())]
    return matching[-1] if matching else None


def bean(context: str) -> str:
    return f"debezium.mysql:context={context},server={SERVER},type=connector-metrics"


def counters_settled(bed: DebeziumBed, minimum_creates: int) -> dict[tuple[str, str], str]:
    """Direct JMX values once the streaming create count has reached `minimum_creates` and stopped moving."""
    previous: dict[tuple[str, str], str] = {}

    def settled() -> dict[tuple[str, str], str] | None:
        nonlocal previous
        values = testbed.jmx_dump(bed.target.service_url, "debezium.mysql:*")
        creates = int(values.get((bean("streaming"), "TotalNumberOfCreateEventsSeen"), "0"))
        key = (bean("streaming"), "TotalNumberOfEventsSeen")
        stable = creates >= minimum_creates and previous.get(key) == values.get(key)
        previous = values
        return values if stable else None

    return wait_for(settled, 60, f"Debezium to see {minimum_creates} inserts", interval=0.5)


def test_collector_output_matches_direct_jmx_reads(debezium: DebeziumBed, tmp_path: Path) -> None:
    debezium.db.sql("INSERT INTO sales.orders (customer, total) VALUES (1, 1.50), (2, 2.50), (1, 3.50)")
    before = counters_settled(debezium, 3)
    points = collect_two_scrapes(tmp_path, debezium.target.endpoint, "debezium-mysql")
    after = testbed.jmx_dump(debezium.target.service_url, "debezium.mysql:*")
    streaming = {"server": SERVER, "plugin": "mysql"}

    for attribute in ("TotalNumberOfEventsSeen", "TotalNumberOfCreateEventsSeen"):
        point = latest(points, f"debezium.streaming.{attribute}", **streaming)
        assert point is not None, attribute
        direct = int(after[(bean("streaming"), attribute)])
        assert direct == int(before[(bean("streaming"), attribute)]), "counter moved while nothing was written"
        assert point.value == direct
        assert (point.type, point.monotonic, point.temporality, point.unit) == ("sum", True, 2, "{event}")
    created = latest(points, "debezium.streaming.TotalNumberOfCreateEventsSeen", **streaming)
    assert created is not None and created.value >= 3

    per_table = latest(points, "debezium.streaming.NumberOfCreateEventsSeen", table="sales.orders", **streaming)
    assert per_table is not None and per_table.value == int(
        after[(bean("streaming"), "NumberOfCreateEventsSeen[sales.orders]")]
    )
    scanned = latest(points, "debezium.snapshot.RowsScanned", table="sales.customers", **streaming)
    assert scanned is not None and scanned.value == int(after[(bean("snapshot"), "RowsScanned[sales.customers]")]) == 2

    connected = latest(points, "debezium.streaming.Connected", **streaming)
    assert connected is not None and connected.value == 1 and connected.type == "gauge"
    lag = latest(points, "debezium.streaming.MilliSecondsBehindSource", **streaming)
    assert lag is not None and lag.unit == "ms" and lag.type == "gauge" and lag.value >= 0

    status = {
        p.attributes["state"]: p.value
        for p in points
        if p.name == "debezium.schema_history.Status" and p.time == max(q.time for q in points)
    }
    assert after[(bean("schema-history"), "Status")] == "RUNNING"
    assert status == {"running": 1, "recovering": 0, "stopped": 0, "unknown": 0}

    # A counter keeps one start time across scrapes; the -1 "not available" sentinel gives no point.
    starts = {p.start_time for p in points if p.name == "debezium.streaming.TotalNumberOfEventsSeen"}
    assert len(starts) == 1 and starts != {0}
    assert after[(bean("streaming"), "NumberOfUnchangedEventsSkipped")] == "-1"
    assert latest(points, "debezium.streaming.NumberOfUnchangedEventsSkipped") is None
    assert all(p.value == 1 for p in points if p.name == "jmx.up")


def count(logs: str, text: str) -> int:
    return sum(text in line for line in logs.splitlines())


def test_scraping_survives_gateway_kill_and_connector_restart(mariadb: testbed.MariaDB, tmp_path: Path) -> None:
    """Own connector JVM (the shared one stays undisturbed), with an extra `custom.metric.tags` key in its
    ObjectNames: kill the gateway, then restart the connector on the same port. Each recovery comes within
    two collection intervals (plus JVM start-up slack) and each state change is logged once."""
    properties = testbed.debezium_properties(tmp_path, mariadb)
    text = properties.read_text().replace("database.server.id=5400", "database.server.id=5401")
    properties.write_text(text + "custom.metric.tags=team=cdc\n")  # an extra ObjectName key
    target = testbed.start_debezium(properties)
    interval = 1.0
    recovery_budget = 2 * interval + 8  # two intervals, plus a JVM start on a busy 2-core machine
    out = tmp_path / "out.jsonl"
    try:
        wait_for(lambda: streaming_connected(target.service_url), 90, "own Debezium streaming")
        with run_collector(collector_config(tmp_path, target.endpoint, out)) as collector:
            up_points = lambda: [p for p in running_points(collector, out) if p.name == "jmx.up"]  # noqa: E731
            wait_for(lambda: any(p.value == 1 for p in up_points()), 60, "first successful scrape")

            gateways = wait_for(lambda: testbed.gateway_pids(collector.process.pid), 10, "the gateway JVM")
            os.kill(gateways[0], signal.SIGKILL)
            seen = len(up_points())
            wait_for(lambda: len(up_points()) > seen + 1, recovery_budget, "scrapes after the gateway was killed")
            assert testbed.gateway_pids(collector.process.pid) != gateways

            port = target.port
            target.stop()
            seen = len(up_points())
            wait_for(lambda: any(p.value == 0 for p in up_points()[seen:]), recovery_budget, "jmx.up = 0")
            target = testbed.start_debezium(properties, port=port)
            seen = len(up_points())
            wait_for(lambda: any(p.value == 1 for p in up_points()[seen:]), recovery_budget, "jmx.up = 1 again")
            wait_for(
                lambda: (
                    (point := latest(read_points(out), "debezium.streaming.Connected")) is not None
                    and point.time > up_points()[seen].time
                ),
                60,
                "streaming metrics from the restarted connector",
            )
            connected = latest(read_points(out), "debezium.streaming.Connected")
            assert connected is not None
            assert connected.attributes == {"server": SERVER, "plugin": "mysql", "team": "cdc"}
            assert collector.stop() == 0
            logs = collector.logs()
        assert count(logs, "gateway JVM exited") == 1, logs
        assert count(logs, "gateway JVM started") == 2, logs
        # The connector's stop is one unreachable/reachable pair; the gateway's restart may add one more while
        # the new JVM reconnects (a cold JVM's first JMX connection can outlast a 1 s interval's deadline).
        assert count(logs, "target unreachable") in (1, 2), logs
        assert count(logs, "target reachable") == count(logs, "target unreachable") + 1, logs
        assert count(logs, "target unreachable: ConnectException") == 1, logs
        assert "Traceback" not in logs
    finally:
        target.stop()
