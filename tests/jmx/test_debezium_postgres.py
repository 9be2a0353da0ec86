"""The real Debezium PostgreSQL connector (pgoutput) against a real PostgreSQL 15: the `debezium-postgres`
preset writes what a plain JDK JMX client reads, its counters only grow, and scraping survives the
connector restarting in its JVM (as a Kafka Connect worker restarts a task)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tests.jmx import testbed
from tests.jmx.conftest import DebeziumBed, running_connector, streaming_connected
from tests.jmx.test_debezium import collect_two_scrapes, collector_config, latest, running_points
from tests.support import Point, read_points, run_collector, wait_for

pytestmark = pytest.mark.integration
SERVER = "salespg"
LABELS = {"server": SERVER, "plugin": "postgres"}


def bean(context: str) -> str:
    return f"debezium.postgres:context={context},server={SERVER},type=connector-metrics"


def settled(service_url: str, minimum_creates: int) -> dict[tuple[str, str], str]:
    """Direct JMX values once the streaming create count reached `minimum_creates` and stopped moving."""
    previous: dict[tuple[str, str], str] = {}
    key = (bean("streaming"), "TotalNumberOfEventsSeen")

    def ready() -> dict[tuple[str, str], str] | None:
        nonlocal previous
        values = testbed.jmx_dump(service_url, "debezium.postgres:*")
        creates = int(values.get((bean("streaming"), "TotalNumberOfCreateEventsSeen"), "0"))
        stable = creates >= minimum_creates and previous.get(key) == values.get(key)
        previous = values
        return values if stable else None

    return wait_for(ready, 60, f"Debezium to see {minimum_creates} inserts", interval=0.5)


def monotonic_series(points: list[Point]) -> dict[tuple, list[int | float]]:
    """Values of every monotonic sum series, per (name, attributes, start time), in time order."""
    series: dict[tuple, list[int | float]] = defaultdict(list)
    for point in sorted(points, key=lambda p: p.time):
        if point.type == "sum" and point.monotonic:
            series[(point.name, tuple(sorted(point.attributes.items())), point.start_time)].append(point.value)
    return series


def test_postgres_preset_matches_direct_jmx_reads(debezium_postgres: DebeziumBed, tmp_path: Path) -> None:
    bed = debezium_postgres
    bed.db.sql("INSERT INTO orders (customer, total) VALUES (1, 1.50), (2, 2.50), (1, 3.50)")
    before = settled(bed.target.service_url, 3)
    points = collect_two_scrapes(tmp_path, bed.target.endpoint, "debezium-postgres")
    after = testbed.jmx_dump(bed.target.service_url, "debezium.postgres:*")

    for attribute in ("TotalNumberOfEventsSeen", "TotalNumberOfCreateEventsSeen", "NumberOfCommittedTransactions"):
        point = latest(points, f"debezium.streaming.{attribute}", **LABELS)
        assert point is not None, attribute
        direct = int(after[(bean("streaming"), attribute)])
        assert direct == int(before[(bean("streaming"), attribute)]), "counter moved while nothing was written"
        assert point.value == direct and point.attributes == LABELS
        assert (point.type, point.monotonic, point.temporality) == ("sum", True, 2)
    created = latest(points, "debezium.streaming.TotalNumberOfCreateEventsSeen", **LABELS)
    assert created is not None and created.value >= 3

    per_table = latest(points, "debezium.streaming.NumberOfCreateEventsSeen", table="public.orders", **LABELS)
    assert per_table is not None
    assert per_table.value == int(after[(bean("streaming"), "NumberOfCreateEventsSeen[public.orders]")]) >= 3
    scanned = latest(points, "debezium.snapshot.RowsScanned", table="public.customers", **LABELS)
    assert scanned is not None
    assert scanned.value == int(after[(bean("snapshot"), "RowsScanned[public.customers]")]) == 2
    completed = latest(points, "debezium.snapshot.SnapshotCompleted", **LABELS)
    assert completed is not None and completed.value == 1 == int(
        after[(bean("snapshot"), "SnapshotCompleted")] == "true"
    )

    connected = latest(points, "debezium.streaming.Connected", **LABELS)
    assert connected is not None and connected.value == 1 and connected.type == "gauge"
    lag = latest(points, "debezium.streaming.MilliSecondsBehindSource", **LABELS)
    assert lag is not None and lag.unit == "ms" and lag.value >= 0
    assert not [p for p in points if p.name.startswith("debezium.schema_history.")]  # PostgreSQL has none
    assert {p.resource.get("server.address") for p in points} == {"127.0.0.1"}
    assert {p.resource.get("server.port") for p in points} == {bed.target.port}
    for values in monotonic_series(points).values():
        assert values == sorted(values)


def test_postgres_connector_restart_in_its_jvm_is_survived(postgresql: testbed.PostgreSQL, tmp_path: Path) -> None:
    """Own connector (own slot), restarted in its JVM: its MBeans go and come back with counters from 0.
    The collector keeps `jmx.up` at 1, reads the new MBeans, and gives the reset counters a new start time
    (each series stays monotonic)."""
    properties = testbed.postgres_properties(tmp_path, postgresql, slot="dbz_restart")
    out = tmp_path / "out.jsonl"
    with running_connector(postgresql, properties, "postgres") as bed:
        target = bed.target
        postgresql.sql("INSERT INTO customers (name) VALUES ('cy'), ('di')")
        settled(target.service_url, 2)
        config = collector_config(tmp_path, target.endpoint, out, target_system="debezium-postgres")
        with run_collector(config) as collector:
            events = lambda: [  # noqa: E731
                p for p in running_points(collector, out) if p.name == "debezium.streaming.TotalNumberOfEventsSeen"
            ]
            wait_for(lambda: any(p.value >= 2 for p in events()), 60, "the events before the restart")
            assert target.process.stdin is not None
            target.process.stdin.write(b"restart\n")
            target.process.stdin.flush()
            wait_for(lambda: "RESTARTED" in target.log, 90, "the connector restarted in its JVM")
            wait_for(lambda: streaming_connected(target.service_url, "postgres"), 90, "streaming after the restart")
            postgresql.sql("INSERT INTO customers (name) VALUES ('ed')")
            wait_for(
                lambda: any(p.value >= 1 and p.start_time > events()[0].start_time for p in events()),
                60,
                "the restarted connector's counter, under a new start time",
            )
            assert collector.stop() == 0
            logs = collector.logs()
    points = read_points(out)
    assert all(p.value == 1 for p in points if p.name == "jmx.up")
    assert "target unreachable" not in logs and "Traceback" not in logs
    for values in monotonic_series(points).values():
        assert values == sorted(values)
