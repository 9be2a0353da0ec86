"""JMX scrape latency through the gateway, batched vs one call per attribute, against a plain JDK client's
bulk read of the same attributes (the limit); the gateway JVM's memory and start time.

A batched scrape with the MBean set unchanged is one RMI round trip in time: the names are cached in the
gateway (no queryNames) and the 3 MBeans' getAttributes run at once.

The target is a JVM registering Debezium-shaped MBeans (the 3 MBeans / 74 attributes of a real Debezium 3.6.3
MySQL connector, with their real names, long values and a 6 KB `LastAppliedChange` string), so this runs
without MariaDB. The scrape reads what the `debezium-mysql` preset asks for.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path

from benchmarks.figures import Figure, median_seconds
from receivers.jmx.config import load_preset
from receivers.jmx.gateway import GatewayProcess, JvmSpec, RmiTarget
from receivers.jmx.rules import CompiledRule, MetricBuilder, build_query, compile_rules, parse_reply
from tests.jmx import testbed

FIGURES = (
    "jmx_scrape_batched_ms",
    "jmx_scrape_per_attribute_ms",
    "jmx_scrape_java_bulk_ms",
    "gateway_rss_mib",
    "gateway_start_ms",
    "jmx_scrape_jmxquery_ms",
    "jmx_scrape_postgres_ms",
    "jmx_scrape_debezium_generic_ms",
)
SCRAPE_TIMEOUT_S = 10.0


# The PostgreSQL connector's MBeans as read from the real Debezium 3.6.3 connector on PostgreSQL 15 (pgoutput,
# internal.advanced.metrics.enable): snapshot and streaming, no schema history.
POSTGRES_ATTRIBUTES = {
    "snapshot": testbed.DEBEZIUM_COMMON_ATTRIBUTES
    + ",RowsScanned,TotalTableCount,RemainingTableCount,SnapshotRunning,SnapshotPaused,SnapshotCompleted,"
    "SnapshotAborted,SnapshotSkipped,SnapshotDurationInSeconds,SnapshotPausedDurationInSeconds,ChunkId,ChunkFrom,"
    "ChunkTo,TableFrom,TableTo",
    "streaming": testbed.DEBEZIUM_COMMON_ATTRIBUTES
    + ",Connected,MilliSecondsBehindSource,SourceEventPosition,LastTransactionId,NumberOfCommittedTransactions,"
    "NumberOfUnchangedEventsSkipped,MilliSecondsBehindSourceMinValue,MilliSecondsBehindSourceMaxValue,"
    "MilliSecondsBehindSourceAverageValue,MilliSecondsBehindSourceP50,MilliSecondsBehindSourceP95,"
    "MilliSecondsBehindSourceP99,NumberOfCreateEventsSeen,NumberOfUpdateEventsSeen,NumberOfDeleteEventsSeen",
}


def _java_bulk_ms(target: testbed.JavaTarget, query: str, repeat: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".query") as file:
        file.write(query)
        file.flush()
        result = subprocess.run(
            ["java", "-cp", testbed.testbed_classes(), "JmxDump", target.service_url, file.name, str(repeat)],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(result.stdout.strip())


def _jmxquery_ms(target: testbed.JavaTarget, reply_beans: list[tuple[str, str]], query: str, repeat: int) -> float:
    """PyPI `jmxquery` (a JVM per query call) reading the same numeric attributes by name, in one call."""
    from jmxquery import JMXConnection, JMXQuery

    numeric = {
        line.split("\t")[0]: [a for a in line.split("\t")[2:] if not a.startswith("$")] for line in query.splitlines()
    }
    wanted = [JMXQuery(name, attribute) for group, name in reply_beans for attribute in numeric[group]]
    connection = JMXConnection(target.service_url)
    assert connection.query(wanted), "jmxquery read nothing"
    return median_seconds(lambda: connection.query(wanted), repeat, warmup=0) * 1000


def debezium_target() -> AbstractContextManager[testbed.JavaTarget]:
    """A JVM registering the Debezium MySQL connector's 3 MBeans (server=bench) with their real attributes."""
    return testbed.edge_case_target("--beans", testbed.debezium_bean_spec("bench"))


def rss_mib(pid: int) -> float:
    """Resident set size of a live process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(quick: bool) -> list[Figure]:
    repeat = 50 if quick else 300
    rules = compile_rules(load_preset("debezium-mysql"))
    query = build_query(rules)
    builder = MetricBuilder(rules)
    with debezium_target() as target:
        spec, jmx = JvmSpec(), RmiTarget(target.service_url)

        start_samples = []
        for _ in range(1 if quick else 5):
            started = time.perf_counter()
            probe = GatewayProcess(spec)
            probe.start()
            probe.open(jmx)
            assert parse_reply(read(probe, jmx.id, query)).up
            start_samples.append(time.perf_counter() - started)
            probe.stop()

        gateway = GatewayProcess(spec)
        gateway.start()
        gateway.open(jmx)
        try:

            def batched() -> None:
                builder.build(parse_reply(read(gateway, jmx.id, query)), time.time_ns())

            reply = parse_reply(read(gateway, jmx.id, query))
            assert len(reply.beans) == 3, reply
            attributes_of_group = {line.split("\t")[0]: line.split("\t")[2:] for line in query.splitlines()}
            per_attribute_queries = [
                f"0\t{bean.name}\t{attribute}"
                for bean in reply.beans
                for attribute in attributes_of_group[bean.groups[0]]
            ]

            def per_attribute() -> None:
                for single in per_attribute_queries:
                    read(gateway, jmx.id, single)

            batched_ms = median_seconds(batched, repeat, warmup=repeat) * 1000  # JmxDump warms up as long
            per_attribute_ms = median_seconds(per_attribute, repeat // 5, warmup=repeat // 10) * 1000
            rss = rss_mib(gateway.pid)
        finally:
            gateway.stop()
        java_bulk_ms = _java_bulk_ms(target, query, repeat)
        beans = [(bean.groups[0], bean.name) for bean in reply.beans]
        jmxquery_ms = _jmxquery_ms(target, beans, query, 3 if quick else 10)

    return [
        Figure(
            "jmx_scrape_batched_ms",
            batched_ms,
            "ms",
            peer="jmx_scrape_java_bulk_ms",
            ratio=batched_ms / java_bulk_ms,
            target="ratio <= 2",
        ),
        Figure(
            "jmx_scrape_per_attribute_ms",
            per_attribute_ms,
            "ms",
            peer="jmx_scrape_batched_ms",
            ratio=per_attribute_ms / batched_ms,
            target="ratio >= 10",
        ),
        Figure("jmx_scrape_java_bulk_ms", java_bulk_ms, "ms"),
        Figure("gateway_rss_mib", rss, "MiB", target="<= 64"),
        Figure("gateway_start_ms", statistics.median(start_samples) * 1000, "ms"),
        Figure(
            "jmx_scrape_jmxquery_ms",
            jmxquery_ms,
            "ms",
            peer="jmx_scrape_batched_ms",
            ratio=jmxquery_ms / batched_ms,
            target="ratio >= 50",
        ),
        *postgres_figures(quick),
    ]


def read(gateway: GatewayProcess, target_id: str, query: str) -> str:
    """One target's reply: a batch of one, as a receiver with a single `endpoint` reads it."""
    return gateway.scrape([target_id], query, SCRAPE_TIMEOUT_S)[0]


def _scrape_ms(gateway: GatewayProcess, target_id: str, rules: list[CompiledRule], repeat: int) -> float:
    """Median ms of one scrape with `rules` and building its metrics; the scrape must read both MBeans."""
    query, builder = build_query(rules), MetricBuilder(rules)
    assert len(parse_reply(read(gateway, target_id, query)).beans) == 2
    return 1000 * median_seconds(
        lambda: builder.build(parse_reply(read(gateway, target_id, query)), time.time_ns()),
        repeat,
        warmup=repeat,
    )


def postgres_figures(quick: bool) -> list[Figure]:
    """One scrape of the `debezium-postgres` preset (PostgreSQL-shaped MBeans) against a plain JDK client's
    bulk read of the same attributes, and the generic `debezium` preset on the same MBeans against it: the
    generic one asks each MBean for its attribute list (`'*'`), one more round trip per MBean."""
    repeat = 50 if quick else 300
    beans = {
        f"debezium.postgres:type=connector-metrics,context={context},server=bench": names
        for context, names in POSTGRES_ATTRIBUTES.items()
    }
    exact, generic = (compile_rules(load_preset(name)) for name in ("debezium-postgres", "debezium"))
    with testbed.shaped_target(beans) as target:
        jmx = RmiTarget(target.service_url)
        gateway = GatewayProcess(JvmSpec())
        gateway.start()
        gateway.open(jmx)
        try:
            medians = {
                name: _scrape_ms(gateway, jmx.id, rules, repeat)
                for name, rules in (("exact", exact), ("generic", generic))
            }
        finally:
            gateway.stop()
        java_bulk_ms = _java_bulk_ms(target, build_query(exact), repeat)
    return [
        Figure(
            "jmx_scrape_postgres_ms",
            medians["exact"],
            "ms",
            peer="jmx_scrape_java_bulk_ms (PostgreSQL MBeans)",
            ratio=medians["exact"] / java_bulk_ms,
            target="ratio <= 2",
        ),
        Figure(
            "jmx_scrape_debezium_generic_ms",
            medians["generic"],
            "ms",
            peer="jmx_scrape_postgres_ms",
            ratio=medians["generic"] / medians["exact"],
            target="ratio <= 2",
        ),
    ]
