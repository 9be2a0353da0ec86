"""The connector wrapper on the real Debezium MySQL connector (embedded engine, real MariaDB), started with
`connector.class` set to our wrapper. Listening (the first releases' class name, GatewayMySqlConnector):
serves its MBeans over py4j with token + TLS, equal to a direct JMX read, and a connector restart in the
same JVM neither leaks a second gateway nor clashes on the port. Dialing out (the generic GatewayConnector
wrapping `collector.gateway.wrapped.class`): nothing listens in the worker JVM, values equal JMX, the
collector restarted mid-way and the gateway back on its own."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from tests.jmx import injvm, testbed
from tests.jmx.conftest import make_receiver, streaming_connected
from tests.support import free_port, wait_for

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


def test_the_generic_wrapper_dials_out_from_debezium_and_nothing_listens(
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
            "collector.gateway.connect": f"localhost:{port}",
            "collector.gateway.token": recipe.token,
            # inline, as a secrets-manager config provider gives it on MSK Connect
            "collector.gateway.tls.ca.base64": recipe.file("ca.pem.base64").read_text(),
        },
    )

    async def connected(receiver) -> None:
        for _ in range(600):
            if receiver.listener.workers:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the wrapped connector's gateway did not dial in")

    async def scenario() -> None:
        receiver = make_receiver({**injvm.listen_config(port, recipe), "target_system": "debezium-mysql"})
        await receiver.listener.start()
        # The worker's log as Kafka Connect keeps it (log4j2 behind slf4j): the gateway's INFO lines, Debezium's errors.
        log_config = tmp_path / "log4j2.properties"
        log_config.write_text(LOG4J2)
        target = await asyncio.to_thread(
            testbed.start_debezium,
            properties,
            extra_classpath=[str(gateway_jar.jar), str(gateway_jar.py4j_jar)],
            jvm_options=[f"-Dlog4j2.configurationFile={log_config}"],
        )
        try:
            await asyncio.to_thread(wait_for, lambda: streaming_connected(target.service_url), 90, "streaming")
            await connected(receiver)
            assert injvm.listening_ports(target.process.pid) == {target.port}  # the bed's JMX oracle only
            mariadb.sql("INSERT INTO sales.orders (customer, total) VALUES (3, 1.25), (4, 2.50)")
            settled = await asyncio.to_thread(wait_for, lambda: stable_events(target), 60, "inserts", interval=0.5)
            data = await receiver.scrape()
            attributes = {"server": SERVER, "plugin": "mysql"}
            for attribute in ("TotalNumberOfEventsSeen", "TotalNumberOfCreateEventsSeen"):
                assert injvm.value(data, f"debezium.streaming.{attribute}", **attributes) == int(settled[attribute])
            assert dict(data.resource_metrics[0].resource.attributes)["process.pid"] == target.process.pid

            # The collector restarts: the gateway reconnects by itself, Debezium never noticed.
            await receiver.listener.stop()
            await asyncio.sleep(2)
            receiver = make_receiver({**injvm.listen_config(port, recipe), "target_system": "debezium-mysql"})
            await receiver.listener.start()
            await connected(receiver)
            mariadb.sql("INSERT INTO sales.orders (customer, total) VALUES (5, 3.75)")
            settled = await asyncio.to_thread(wait_for, lambda: stable_events(target, 3), 60, "insert", interval=0.5)
            again = await receiver.scrape()
            assert injvm.value(again, "jmx.up") == 1
            total = "debezium.streaming.TotalNumberOfCreateEventsSeen"
            assert injvm.value(again, total, **attributes) == int(settled["TotalNumberOfCreateEventsSeen"])
            assert target.process.poll() is None
        finally:
            await asyncio.to_thread(target.stop)
            await receiver.listener.stop()
        log = "\n".join(target.log)
        assert log.count(f"connected to collector localhost:{port}") == 2, log
        assert recipe.token not in log

    asyncio.run(scenario())


def stable_events(target: testbed.JavaTarget, creates: int = 2) -> dict[str, str] | None:
    """Direct JMX values of the streaming MBean once it has seen `creates` creates and stopped moving."""
    first = testbed.jmx_dump(target.service_url, STREAMING)
    second = testbed.jmx_dump(target.service_url, STREAMING)
    values = {attribute: text for (_, attribute), text in second.items()}
    if int(values.get("TotalNumberOfCreateEventsSeen", "0")) < creates or first != second:
        return None
    return values
