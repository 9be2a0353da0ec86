"""Session-wide real test bed: one MariaDB, one PostgreSQL, and one Debezium connector JVM for each, shared
by the tests that only read them; tests that disrupt a JVM start their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from collector.component import Kind
from collector.telemetry import Telemetry
from collector.testing import RecordingConsumer, create_settings
from receivers.jmx import JmxConfig
from receivers.jmx.factory import create_receiver
from tests.jmx import injvm, testbed
from tests.support import free_port, wait_for


@dataclass
class DebeziumBed:
    """A database and the real Debezium connector streaming from it."""

    db: testbed.MariaDB | testbed.PostgreSQL
    properties: Path
    target: testbed.JavaTarget


@pytest.fixture(scope="session")
def edge_target() -> Iterator[testbed.JavaTarget]:
    with testbed.edge_case_target() as target:
        yield target


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testbed.MariaDB]:
    db = testbed.MariaDB(tmp_path_factory.mktemp("mariadb"), free_port())
    db.start()
    db.sql(testbed.DEBEZIUM_SETUP)
    yield db
    db.stop()


def streaming_connected(service_url: str, plugin: str = "mysql") -> bool:
    values = testbed.jmx_dump(service_url, f"debezium.{plugin}:context=streaming,*")
    return any(attr == "Connected" and text == "true" for (_, attr), text in values.items())


@contextmanager
def running_connector(db: testbed.MariaDB | testbed.PostgreSQL, properties: Path, plugin: str) -> Iterator[DebeziumBed]:
    """The connector of `properties` in its own JVM, once it streams; stopped on exit."""
    target = testbed.start_debezium(properties)
    try:
        wait_for(lambda: streaming_connected(target.service_url, plugin), 90, f"Debezium {plugin} streaming")
        yield DebeziumBed(db, properties, target)
    finally:
        target.stop()


@pytest.fixture(scope="session")
def debezium(mariadb: testbed.MariaDB, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebeziumBed]:
    """The real Debezium MySQL connector, streaming from MariaDB, JMX on loopback."""
    properties = testbed.debezium_properties(tmp_path_factory.mktemp("debezium"), mariadb)
    with running_connector(mariadb, properties, "mysql") as bed:
        yield bed


@pytest.fixture(scope="session")
def postgresql() -> Iterator[testbed.PostgreSQL]:
    db = testbed.PostgreSQL(free_port())
    db.start()
    try:
        for database, statement in testbed.POSTGRES_SETUP:
            db.sql(statement, database)
        yield db
    finally:
        db.stop()


@pytest.fixture(scope="session")
def debezium_postgres(
    postgresql: testbed.PostgreSQL, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DebeziumBed]:
    """The real Debezium PostgreSQL connector (pgoutput), streaming from the bed's cluster, JMX on loopback."""
    properties = testbed.postgres_properties(tmp_path_factory.mktemp("debezium-pg"), postgresql)
    with running_connector(postgresql, properties, "postgres") as bed:
        yield bed


def make_receiver(config: dict[str, Any], telemetry: Telemetry | None = None) -> Any:
    """An in-process receiver of the config's mode, as the factory makes it (a SingleTargetReceiver,
    EndpointsReceiver or ListenReceiver: to look at its telemetry and state); the target and gateway JVMs
    are real."""
    settings = create_settings(Kind.RECEIVER, "jmx/test", telemetry)
    return create_receiver(settings, JmxConfig.model_validate(config), RecordingConsumer())


async def scrape_points(config: dict[str, Any]) -> dict[str, list[tuple[Any, Any]]]:
    """{metric name: [(metric, point)]} of an in-process receiver's second scrape (counters with history)."""
    receiver = make_receiver(config)
    try:
        await receiver.scrape()
        return points_by_name(await receiver.scrape())
    finally:
        receiver.gateway.stop()


def points_by_name(data: Any) -> dict[str, list[tuple[Any, Any]]]:
    """{metric name: [(metric, point)]} of one scrape's MetricsData."""
    result: dict[str, list[tuple[Any, Any]]] = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                result.setdefault(metric.name, []).extend((metric, p) for p in metric.data.data_points)
    return result


@pytest.fixture(scope="session")
def gateway_jar(tmp_path_factory: pytest.TempPathFactory) -> injvm.GatewayJar:
    """What `collector gateway-jar` builds, with the Debezium connector wrapper."""
    return injvm.build_jar(tmp_path_factory.mktemp("gateway-jar"))


@pytest.fixture(scope="session")
def gateway_secrets(tmp_path_factory: pytest.TempPathFactory) -> injvm.Secrets:
    return injvm.make_secrets(tmp_path_factory.mktemp("gateway-secrets"))


@pytest.fixture(scope="session")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> injvm.Recipe:
    """docs/msk-connect.md's certificate and token commands, run as written (for the name `localhost`)."""
    return injvm.run_recipe(tmp_path_factory.mktemp("recipe"), "collector-tls", "gateway-keystore")
