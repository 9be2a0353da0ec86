"""The Debezium connector wrapper: the real Debezium MySQL connector (embedded engine, real MariaDB) started
with `connector.class` set to our wrapper serves its MBeans over py4j with token + TLS, equal to a direct
JMX read, and a connector restart in the same JVM neither leaks a second gateway nor clashes on the port."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from tests.jmx import injvm, testbed
from tests.jmx.conftest import make_receiver, streaming_connected
from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration
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
            "connector.class": gateway_jar.connector_class,
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


def stable_events(target: testbed.JavaTarget) -> dict[str, str] | None:
    """Direct JMX values of the streaming MBean once it has seen two creates and stopped moving."""
    first = testbed.jmx_dump(target.service_url, STREAMING)
    second = testbed.jmx_dump(target.service_url, STREAMING)
    values = {attribute: text for (_, attribute), text in second.items()}
    if int(values.get("TotalNumberOfCreateEventsSeen", "0")) < 2 or first != second:
        return None
    return values
