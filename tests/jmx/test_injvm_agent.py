"""The in-JVM gateway as a Java agent in a plain JVM: what `collector gateway-jar` builds, the refusals of
its security rules (each over the real network path), and the `jmx` receiver reading it over py4j."""

from __future__ import annotations

import asyncio
import socket
import zipfile
from pathlib import Path

import pytest
from py4j.java_gateway import GatewayParameters, JavaGateway
from py4j.protocol import Py4JError

from collector.configtls import TLSClientConfig
from receivers.jmx.errors import TargetDown
from receivers.jmx.network import NetworkGateway, client_ssl_context
from tests.jmx import injvm
from tests.jmx.conftest import make_receiver
from tests.support import free_port, read_points, run_collector, wait_for, write_config

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def agent(gateway_jar: injvm.GatewayJar, gateway_secrets: injvm.Secrets):
    """Loopback, but with the beyond-loopback rules forced (strict): token and TLS required."""
    port = free_port()
    settings = {"port": str(port), "bind": "127.0.0.1", "strict": "true", **gateway_secrets.agent_settings()}
    with injvm.agent_target(gateway_jar, settings) as target:
        yield port, target


def tls(gateway_secrets: injvm.Secrets) -> TLSClientConfig:
    return TLSClientConfig(ca_file=str(gateway_secrets.ca_file))


def test_the_jar_is_java_11_bytecode_with_an_agent_manifest(gateway_jar: injvm.GatewayJar) -> None:
    with zipfile.ZipFile(gateway_jar.jar) as jar:
        manifest = jar.read("META-INF/MANIFEST.MF").decode()
        services = jar.read("META-INF/services/org.apache.kafka.connect.source.SourceConnector").decode().split()
        classes = [n for n in jar.namelist() if n.endswith(".class")]
        majors = {int.from_bytes(jar.read(n)[6:8], "big") for n in classes}
        names = set(jar.namelist())
    assert "Premain-Class: jmxotel.InProcessGateway" in manifest
    assert f"Class-Path: {gateway_jar.py4j_jar.name}" in manifest
    # Java 11, the connector wrapper included, though compiled against Kafka 4's connect-api (Java 17 classes):
    # one jar for MSK Connect's 2.7.1 (Java 11) and 3.7 (Java 17) workers.
    assert majors == {55}
    assert {"jmxotel/connect/GatewayConnector.class", "jmxotel/connect/GatewayMySqlConnector.class"} <= names
    assert services == ["jmxotel.connect.GatewayConnector", injvm.MYSQL_WRAPPER]  # Connect's plugin discovery
    assert not any(n.startswith(("io/debezium", "org/apache", "org/slf4j", "py4j/")) for n in names)  # nothing shipped
    assert gateway_jar.py4j_jar.parent == gateway_jar.jar.parent
    assert gateway_jar.connector_class == "jmxotel.connect.GatewayConnector"


def test_the_wrapper_names_no_debezium_class(gateway_jar: injvm.GatewayJar) -> None:
    """Compiled against connect-api alone: no reference to any connector in the wrapper's bytecode."""
    with zipfile.ZipFile(gateway_jar.jar) as jar:
        wrapper = b"".join(jar.read(n) for n in jar.namelist() if n.startswith("jmxotel/connect/"))
    assert b"io/debezium" not in wrapper
    assert b"io.debezium.connector.mysql.MySqlConnector" in wrapper  # a name (string), the MySQL default


def test_gateway_jar_without_a_jdk_says_so(tmp_path: Path) -> None:
    result = injvm.subprocess.run(
        [*injvm.COLLECTOR, "gateway-jar", "--out", str(tmp_path), "--java", "no-such-java"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "openjdk-17-jdk-headless" in result.stderr and not result.stdout


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"strict": "true"}, "without a token"),
        ({"bind": "0.0.0.0"}, "without a token"),
        ({"strict": "true", "token_file": "SHORT"}, "shorter than 32 bytes"),
        ({"strict": "true", "token_file": "GOOD"}, "refusing plaintext"),
        ({"token": "x" * 40}, "give token_file, not token"),
        ({"prot": "1"}, "unknown setting prot"),
    ],
)
def test_the_agent_refuses_to_start(
    gateway_jar: injvm.GatewayJar,
    gateway_secrets: injvm.Secrets,
    tmp_path: Path,
    settings: dict[str, str],
    message: str,
) -> None:
    short = tmp_path / "short.token"
    short.write_text("a" * 31)
    files = {"SHORT": str(short), "GOOD": str(gateway_secrets.token_file)}
    settings = {k: files.get(v, v) for k, v in {"port": str(free_port()), **settings}.items()}
    result = injvm.agent_refusal(gateway_jar, settings)
    assert result.returncode != 0
    assert message in result.stderr


def test_plaintext_is_served_when_explicitly_allowed(
    gateway_jar: injvm.GatewayJar, gateway_secrets: injvm.Secrets
) -> None:
    settings = {"port": str(free_port()), "strict": "true", "token_file": str(gateway_secrets.token_file)}
    result = injvm.agent_refusal(gateway_jar, {**settings, "allow_plaintext": "true"})
    assert result.returncode == 0, result.stderr


def test_wrong_token_is_refused_and_counted(agent, gateway_secrets: injvm.Secrets) -> None:
    port, _ = agent
    stats = {
        "endpoint": f"py4j://127.0.0.1:{port}",
        "rules": [injvm.STATS_RULE],
        "tls": {"ca_file": str(gateway_secrets.ca_file)},
    }
    good = make_receiver({**stats, "auth_token": gateway_secrets.token})
    before = asyncio.run(good.scrape())
    # A refused token is that target being down (jmx.up 0), as an unreachable one is.
    wrong = make_receiver({**stats, "auth_token": "x" * 43})
    refused = asyncio.run(wrong.scrape())
    wrong.gateway.stop()
    assert injvm.value(refused, "jmx.up") == 0 and "wrong auth_token" in (wrong.degraded_reason or "")
    after = asyncio.run(good.scrape())
    good.gateway.stop()
    assert injvm.value(after, "gateway.refused") == injvm.value(before, "gateway.refused") + 1


def test_plaintext_and_unverified_peers_are_refused(agent, gateway_secrets: injvm.Secrets, tmp_path: Path) -> None:
    port, _ = agent
    plaintext = NetworkGateway("127.0.0.1", port, gateway_secrets.token, TLSClientConfig(insecure=True))
    with pytest.raises(TargetDown, match="expects TLS"):
        plaintext.scrape("")  # the right token, sent in plaintext: the TLS handshake fails, nothing is served
    plaintext.stop()
    _, other_ca = injvm.server_keystore(tmp_path, "unused")  # a CA that did not sign the gateway's certificate
    untrusted = NetworkGateway("127.0.0.1", port, gateway_secrets.token, TLSClientConfig(ca_file=str(other_ca)))
    with pytest.raises(TargetDown, match="CERTIFICATE_VERIFY_FAILED"):
        untrusted.scrape("")
    untrusted.stop()


def test_a_token_holder_reads_mbeans_and_nothing_else(agent, gateway_secrets: injvm.Secrets) -> None:
    port, _ = agent
    client = JavaGateway(
        gateway_parameters=GatewayParameters(
            address="127.0.0.1",
            port=port,
            auth_token=gateway_secrets.token,
            ssl_context=client_ssl_context(tls(gateway_secrets)),
            auto_convert=False,
            eager_load=False,
        )
    )
    try:
        assert client.entry_point.scrape("g\tjava.lang:type=Runtime\tUptime").startswith("UP\n")
        with pytest.raises(Py4JError):
            client.jvm.java.lang.System.getProperty("user.name")
        with pytest.raises(Py4JError):
            client.entry_point.getClass()
        with pytest.raises(Py4JError):
            client.jvm.java.lang.Runtime.getRuntime()
    finally:
        client.close()


def test_the_agent_serves_the_jvm_preset_to_a_collector(agent, gateway_secrets: injvm.Secrets, tmp_path: Path) -> None:
    port, _ = agent
    out = tmp_path / "out.jsonl"
    config = write_config(
        tmp_path,
        {
            "receivers": {
                "jmx/worker": {
                    "endpoint": f"py4j://127.0.0.1:{port}",
                    "auth_token": "${env:GATEWAY_TOKEN}",
                    "tls": {"ca_file": str(gateway_secrets.ca_file)},
                    "target_system": "jvm",
                    "collection_interval": "1s",
                    "initial_delay": "0s",
                }
            },
            "exporters": {"file": {"path": str(out)}},
            "service": {"pipelines": {"metrics": {"receivers": ["jmx/worker"], "exporters": ["file"]}}},
        },
    )
    wanted = {"jvm.memory.used", "jvm.thread.count", "jvm.class.loaded", "jmx.up"}
    with run_collector(config, env={"GATEWAY_TOKEN": gateway_secrets.token}) as collector:
        wait_for(lambda: out.exists() and wanted <= {p.name for p in read_points(out)}, 60, "jvm metrics over py4j")
        logs = collector.logs()
    points = read_points(out)
    assert all(p.value == 1 for p in points if p.name == "jmx.up")
    assert all(p.value > 0 for p in points if p.name == "jvm.thread.count")
    assert gateway_secrets.token not in logs


def resources(data) -> dict[int, dict[str, float]]:
    """server.port -> {metric name: first point's value} of a multi-target scrape."""
    found = {}
    for resource in data.resource_metrics:
        values = {m.name: m.data.data_points[0].value for s in resource.scope_metrics for m in s.metrics}
        found[resource.resource.attributes["server.port"]] = values
    return found


def test_endpoints_from_a_file_follow_the_worker_group(
    agent, gateway_jar: injvm.GatewayJar, gateway_secrets: injvm.Secrets, tmp_path: Path
) -> None:
    first, _ = agent
    second, dead = free_port(), free_port()
    settings = {"port": str(second), "strict": "true", **gateway_secrets.agent_settings()}
    workers = tmp_path / "workers.txt"
    workers.write_text(f"# the worker group\n127.0.0.1:{first}\n127.0.0.1:{second}\n")
    receiver = make_receiver(
        {
            "endpoints": {"file": str(workers), "refresh_interval": "1ms"},
            "auth_token": gateway_secrets.token,
            "tls": {"ca_file": str(gateway_secrets.ca_file)},
            "target_system": "jvm",
            "resource_attributes": {"service.name": "connect"},
        }
    )
    try:
        with injvm.agent_target(gateway_jar, settings):
            both = resources(asyncio.run(receiver.scrape()))
            assert set(both) == {first, second}
            assert all(v["jmx.up"] == 1 and v["jvm.thread.count"] > 0 for v in both.values())
            assert receiver.degraded_reason is None

            workers.write_text(f"127.0.0.1:{first}\n127.0.0.1:{dead}\n")  # one worker replaced by a dead one
            data = asyncio.run(receiver.scrape())
            after = resources(data)
            assert set(after) == {first, dead}
            assert after[first]["jmx.up"] == 1 and after[dead] == {"jmx.up": 0}
            assert receiver.degraded_reason == "1 of 2 targets unreachable"
            assert all(r.resource.attributes["service.name"] == "connect" for r in data.resource_metrics)

            workers.write_text("not an endpoint\n")  # a bad list keeps the last good one
            assert set(resources(asyncio.run(receiver.scrape()))) == {first, dead}
    finally:
        asyncio.run(receiver.shutdown())


def test_endpoints_from_dns_verify_tls_against_the_name(agent, gateway_secrets: injvm.Secrets) -> None:
    port, _ = agent
    receiver = make_receiver(
        {
            "endpoints": {"dns": f"localhost:{port}"},
            "auth_token": gateway_secrets.token,
            "tls": {"ca_file": str(gateway_secrets.ca_file)},
            "target_system": "jvm",
        }
    )
    try:
        data = asyncio.run(receiver.scrape())
    finally:
        asyncio.run(receiver.shutdown())
    by_address = {r.resource.attributes["server.address"]: r for r in data.resource_metrics}
    assert "127.0.0.1" in by_address  # the agent listens on 127.0.0.1 only; ::1, if resolved, is down
    ipv4 = {m.name: m.data.data_points[0].value for s in by_address["127.0.0.1"].scope_metrics for m in s.metrics}
    assert ipv4["jmx.up"] == 1 and ipv4["jvm.memory.used"] > 0


@pytest.mark.timeout(30)
def test_a_silent_gateway_is_down_within_the_scrape() -> None:
    """A worker that accepts connections but never answers (a hung JVM, a blackholing middlebox)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        network = NetworkGateway("127.0.0.1", port, "", TLSClientConfig(insecure=True), scrape_timeout=1.0)
        try:
            with pytest.raises(TargetDown, match="unreachable"):
                network.scrape("g\tjava.lang:type=Runtime\tUptime")
        finally:
            network.stop()
