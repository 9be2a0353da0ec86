"""The connector wrapper on the real Debezium MySQL connector (embedded engine, real MariaDB), started with
`connector.class` set to our wrapper. Listening (the first releases' class name, GatewayMySqlConnector):
serves its MBeans over py4j with token + TLS, equal to a direct JMX read, and a connector restart in the
same JVM neither leaks a second gateway nor clashes on the port. Dialing out (the generic GatewayConnector
wrapping `collector.gateway.wrapped.class`): nothing listens in the worker JVM, values equal JMX, the
collector restarted mid-way and the gateway back on its own; the same jar wrapping Debezium's PostgreSQL
connector on the PostgreSQL bed; Kafka Connect's validate() answered with the wrapped connector's rules."""

from __future__ import annotations

import asyncio
import base64
import subprocess
from pathlib import Path

import pytest

from tests.jmx import injvm, testbed
from tests.jmx.conftest import make_receiver, streaming_connected
from tests.support import Point, free_port, read_points, run_collector, wait_for, write_config

pytestmark = pytest.mark.integration
LOG4J2 = """
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = %p %c{1} %m%n
rootLogger.level = error
rootLogger.appenderRef.out.ref = out
logger.gateway.name = jmxotel
logger.gateway.level = info
"""
SERVER = "salesdb"
STREAMING = f"debezium.mysql:context=streaming,server={SERVER},type=connector-metrics"


def test_wrapper_serves_debezium_over_py4j_and_survives_a_restart(
    mariadb: testbed.MariaDB, gateway_jar: injvm.GatewayJar, gateway_secrets: injvm.Secrets, tmp_path: Path
) -> None:
    port = free_port()
    properties = testbed.debezium_properties(
        tmp_path,
        mariadb,
        {
            "connector.class": injvm.MYSQL_WRAPPER,  # the first releases' name keeps working
            "database.server.id": "5402",
            "collector.gateway.port": str(port),
            "collector.gateway.bind": "127.0.0.1",
            "collector.gateway.strict": "true",  # the beyond-loopback rules: token and TLS required
            "collector.gateway.token": gateway_secrets.token,
            # inline, as a secrets-manager config provider would give it (no file on an MSK Connect worker)
            "collector.gateway.tls.keystore.base64": base64.b64encode(gateway_secrets.keystore.read_bytes()).decode(),
            "collector.gateway.tls.keystore.password": gateway_secrets.keystore_password_file.read_text(),
        },
    )
    target = testbed.start_debezium(properties, extra_classpath=[str(gateway_jar.jar), str(gateway_jar.py4j_jar)])
    receiver = make_receiver(
        {
            "endpoint": f"py4j://127.0.0.1:{port}",
            "auth_token": gateway_secrets.token,
            "tls": {"ca_file": str(gateway_secrets.ca_file)},
            "target_system": "debezium-mysql",
            "rules": [injvm.STATS_RULE],
        }
    )
    try:
        wait_for(lambda: streaming_connected(target.service_url), 90, "Debezium (wrapped) streaming")
        mariadb.sql("INSERT INTO sales.orders (customer, total) VALUES (1, 4.50), (2, 5.50)")
        settled = wait_for(lambda: stable_events(target), 60, "Debezium to see the inserts", interval=0.5)
        data = asyncio.run(receiver.scrape())
        attributes = {"server": SERVER, "plugin": "mysql"}
        assert injvm.value(data, "jmx.up") == 1
        for attribute in ("TotalNumberOfEventsSeen", "TotalNumberOfCreateEventsSeen"):
            assert injvm.value(data, f"debezium.streaming.{attribute}", **attributes) == int(settled[attribute])
        assert injvm.value(data, "debezium.streaming.Connected", **attributes) == 1
        assert injvm.value(data, "gateway.holders") == 1

        assert target.process.stdin is not None
        target.process.stdin.write(b"restart\n")
        target.process.stdin.flush()
        wait_for(lambda: "RESTARTED" in target.log, 90, "the connector to restart in the same JVM")
        wait_for(lambda: streaming_connected(target.service_url), 90, "Debezium streaming again")

        def scraped_again():
            reply = asyncio.run(receiver.scrape())
            return reply if injvm.value(reply, "jmx.up") == 1 else None

        again = wait_for(scraped_again, 30, "a scrape over py4j after the restart")
        assert injvm.value(again, "gateway.holders") == 1  # the stopped task released it: no second gateway
        assert injvm.value(again, "debezium.streaming.Connected", **attributes) == 1
        assert target.process.poll() is None
        assert not [line for line in target.log if "BindException" in line or "collector gateway" in line]
    finally:
        receiver.gateway.stop()
        target.stop()


def test_the_generic_wrapper_dials_out_from_debezium_to_a_collector_that_restarts(
    mariadb: testbed.MariaDB, gateway_jar: injvm.GatewayJar, recipe: injvm.Recipe, tmp_path: Path
) -> None:
    port = free_port()
    properties = testbed.debezium_properties(
        tmp_path,
        mariadb,
        {
            "connector.class": gateway_jar.connector_class,
            "collector.gateway.wrapped.class": "io.debezium.connector.mysql.MySqlConnector",
            "database.server.id": "5403",
            "collector.gateway.connect": f"localhost:{port}",  # the name the recipe's certificate carries
            "collector.gateway.token": recipe.token,
            # inline, as a secrets-manager config provider gives it on MSK Connect
            "collector.gateway.tls.ca.base64": recipe.file("ca.pem.base64").read_text(),
        },
    )
    listen = injvm.listen_config(port, recipe, auth_tokens=["${env:GATEWAY_TOKEN}"])

    def config(name: str) -> tuple[Path, Path]:
        out = tmp_path / f"{name}.jsonl"
        receiver = {**listen, "target_system": "debezium-mysql", "collection_interval": "1s", "initial_delay": "0s"}
        pipeline = {"receivers": ["jmx/msk"], "exporters": ["file"]}
        path = write_config(
            tmp_path,
            {
                "receivers": {"jmx/msk": receiver},
                "exporters": {"file": {"path": str(out)}},
                "service": {"pipelines": {"metrics": pipeline}},
            },
            f"{name}.yaml",
        )
        return path, out

    def creates(out: Path, expected: int) -> Point | None:
        found = [p for p in read_points(out) if p.name == "debezium.streaming.TotalNumberOfCreateEventsSeen"]
        return found[-1] if found and found[-1].value == expected else None

    # The worker's log as Kafka Connect keeps it (log4j2 behind slf4j): the gateway's INFO lines, errors.
    log_config = tmp_path / "log4j2.properties"
    log_config.write_text(LOG4J2)
    env = {"GATEWAY_TOKEN": recipe.token}
    first_config, first_out = config("first")
    with run_collector(first_config, env=env) as first:
        target = testbed.start_debezium(
            properties,
            extra_classpath=[str(gateway_jar.jar), str(gateway_jar.py4j_jar)],
            jvm_options=[f"-Dlog4j2.configurationFile={log_config}"],
        )
        try:
            wait_for(lambda: streaming_connected(target.service_url), 90, "Debezium (wrapped) streaming")
            wait_for(lambda: "worker connected" in first.logs(), 60, "the gateway to dial in")
            assert injvm.listening_ports(target.process.pid) == {target.port}  # the bed's JMX oracle only
            mariadb.sql("INSERT INTO sales.orders (customer, total) VALUES (3, 1.25), (4, 2.50)")
            settled = wait_for(lambda: stable_events(target), 60, "Debezium to see the inserts", interval=0.5)
            expected = int(settled["TotalNumberOfCreateEventsSeen"])
            point = wait_for(lambda: creates(first_out, expected), 30, "the value JMX has, through the dial-out")
            assert point.attributes == {"server": SERVER, "plugin": "mysql"}
            assert point.resource["process.pid"] == target.process.pid
            assert point.resource["server.address"] == "127.0.0.1"
            assert first.stop() == 0  # the collector restarts: the gateway reconnects by itself

            second_config, second_out = config("second")
            with run_collector(second_config, env=env) as second:
                wait_for(lambda: "worker connected" in second.logs(), 60, "the gateway to dial in again")
                mariadb.sql("INSERT INTO sales.orders (customer, total) VALUES (5, 3.75)")
                settled = wait_for(lambda: stable_events(target, 3), 60, "Debezium to see the insert", interval=0.5)
                expected = int(settled["TotalNumberOfCreateEventsSeen"])
                wait_for(lambda: creates(second_out, expected), 30, "the new value after the collector's restart")
                assert target.process.poll() is None  # Debezium never noticed
                target.stop()
                wait_for(lambda: "worker gone" in second.logs(), 30, "the collector to see the worker go")
                logs = first.logs() + second.logs()
        finally:
            target.stop()
    assert recipe.token not in logs
    worker_log = "\n".join(target.log)
    assert worker_log.count(f"connected to collector localhost:{port}") == 2, worker_log
    assert recipe.token not in worker_log


def stable_events(target: testbed.JavaTarget, creates: int = 2) -> dict[str, str] | None:
    """Direct JMX values of the streaming MBean once it has seen `creates` creates and its event counts stopped
    moving (MilliSecondsSinceLastEvent moves with the clock alone, so it is left out of the comparison)."""

    def counts() -> dict[str, str]:
        values = testbed.jmx_dump(target.service_url, STREAMING)
        return {attribute: text for (_, attribute), text in values.items() if attribute != "MilliSecondsSinceLastEvent"}

    first, second = counts(), counts()
    if int(second.get("TotalNumberOfCreateEventsSeen", "0")) < creates or first != second:
        return None
    return second


VALIDATE_PROBE = """
import java.util.Map;
import jmxotel.connect.GatewayConnector;
import jmxotel.connect.GatewayMySqlConnector;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.source.SourceConnector;

/** What Kafka Connect's herder asks a connector before it starts it: validate(config) and config(). */
public class ValidateProbe {
  static void report(String label, SourceConnector connector, Map<String, String> config) {
    for (ConfigValue value : connector.validate(config).configValues()) {
      if (!value.errorMessages().isEmpty()) {
        System.out.println(label + "\\t" + value.name() + "\\t" + value.errorMessages().get(0));
      }
    }
  }

  public static void main(String[] args) {
    String wrapped = "collector.gateway.wrapped.class";
    report("postgres", new GatewayConnector(), Map.of(wrapped, "io.debezium.connector.postgresql.PostgresConnector"));
    report("none", new GatewayConnector(), Map.of());
    report("not-a-connector", new GatewayConnector(), Map.of(wrapped, "java.lang.String"));
    report("mysql-default", new GatewayMySqlConnector(), Map.of());
    System.out.println("config\\t" + new GatewayConnector().config().names().contains(wrapped));
  }
}
"""


def test_the_wrapper_validates_with_the_wrapped_connectors_rules(gateway_jar: injvm.GatewayJar, tmp_path: Path) -> None:
    """Kafka Connect validates a connector config (on create, on update) before it starts anything: the wrapper
    answers with the wrapped connector's own checks, plus its own on the wrapped class."""
    (tmp_path / "ValidateProbe.java").write_text(VALIDATE_PROBE)
    classpath = f"{gateway_jar.jar}:{gateway_jar.py4j_jar}:{testbed.debezium_libs()}/*:{tmp_path}"
    compiled = subprocess.run(["javac", "-cp", classpath, "-d", str(tmp_path), str(tmp_path / "ValidateProbe.java")])
    assert compiled.returncode == 0
    run = subprocess.run(["java", "-cp", classpath, "ValidateProbe"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line.split("\t") for line in run.stdout.splitlines()]
    errors: dict[str, dict[str, str]] = {}
    for label, *rest in lines:
        if len(rest) == 2:
            errors.setdefault(label, {})[rest[0]] = rest[1]
    assert "database.hostname" in errors["postgres"]  # PostgreSQL's own rule, through the wrapper
    assert "collector.gateway.wrapped.class" not in errors["postgres"]
    assert "is required" in errors["none"]["collector.gateway.wrapped.class"]
    assert "not a source connector" in errors["not-a-connector"]["collector.gateway.wrapped.class"]
    assert "database.hostname" in errors["mysql-default"]  # the MySQL name wraps MySQL without the key
    assert "collector.gateway.wrapped.class" not in errors["mysql-default"]
    assert ["config", "true"] in lines


def test_the_generic_wrapper_runs_the_postgresql_connector(
    postgresql: testbed.PostgreSQL, gateway_jar: injvm.GatewayJar, recipe: injvm.Recipe, tmp_path: Path
) -> None:
    """One wrapper for every connector: the same jar wraps Debezium's PostgreSQL connector on the real bed,
    dialing out; values equal a direct JMX read."""
    port = free_port()
    properties = testbed.postgres_properties(
        tmp_path,
        postgresql,
        slot="dbz_wrapped",
        overrides={
            "connector.class": gateway_jar.connector_class,
            "collector.gateway.wrapped.class": "io.debezium.connector.postgresql.PostgresConnector",
            "collector.gateway.connect": f"localhost:{port}",
            "collector.gateway.token": recipe.token,
            "collector.gateway.tls.ca.base64": recipe.file("ca.pem.base64").read_text(),
        },
    )
    streaming = "debezium.postgres:context=streaming,server=salespg,type=connector-metrics"

    def settled_creates(at_least: int) -> int | None:
        first, second = (
            {a: t for (_, a), t in testbed.jmx_dump(target.service_url, streaming).items() if a.startswith("Total")}
            for _ in range(2)
        )
        creates = int(second.get("TotalNumberOfCreateEventsSeen", "0"))
        return creates if creates >= at_least and first == second else None

    async def scenario() -> None:
        receiver = make_receiver({**injvm.listen_config(port, recipe), "target_system": "debezium-postgres"})
        await receiver.listener.start()
        try:
            for _ in range(900):
                if receiver.listener.workers:
                    break
                await asyncio.sleep(0.1)
            assert injvm.listening_ports(target.process.pid) == {target.port}
            postgresql.sql("INSERT INTO orders (customer, total) VALUES (1, 4.50), (2, 5.50)")
            expected = await asyncio.to_thread(wait_for, lambda: settled_creates(2), 60, "the inserts", 0.5)
            data = await receiver.scrape()
            assert injvm.value(data, "jmx.up") == 1
            name = "debezium.streaming.TotalNumberOfCreateEventsSeen"
            assert injvm.value(data, name, server="salespg", plugin="postgres") == expected
        finally:
            await receiver.listener.stop()

    target = testbed.start_debezium(properties, extra_classpath=[str(gateway_jar.jar), str(gateway_jar.py4j_jar)])
    try:
        wait_for(
            lambda: streaming_connected(target.service_url, "postgres"), 90, "Debezium PostgreSQL (wrapped) streaming"
        )
        asyncio.run(scenario())
    finally:
        target.stop()
