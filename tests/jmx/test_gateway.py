"""The gateway JVM's hardening and lifecycle, against a real target JVM."""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from py4j.java_gateway import GatewayParameters, JavaGateway
from py4j.protocol import Py4JError

from receivers.jmx.gateway import (
    ENVIRONMENT_KEYS,
    GatewayError,
    GatewayProcess,
    GatewaySupervisor,
    JvmSpec,
    RmiTarget,
    classpath,
)
from receivers.jmx.rules import parse_reply
from tests.jmx import testbed
from tests.support import run_collector, wait_for, write_config

pytestmark = pytest.mark.integration
QUERY = "0\tjava.lang:type=Runtime\tUptime"


@pytest.fixture
def gateway(edge_target: testbed.JavaTarget, monkeypatch: pytest.MonkeyPatch):
    # What the collector's environment holds for other components must not reach the gateway JVM.
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-s3cret-key")
    monkeypatch.setenv("OTLP_HEADER_TOKEN", "header-s3cret")
    spec = JvmSpec(system_properties=(("javax.net.ssl.trustStorePassword", "tr-s3cret"),))
    process = GatewayProcess(spec)
    process.start()
    process.open(RmiTarget(edge_target.service_url, "", "s3cret-pw"))
    yield process
    process.stop()


def scrape(gateway: GatewayProcess, edge_target: testbed.JavaTarget, query: str = QUERY) -> str:
    return gateway.scrape([RmiTarget(edge_target.service_url, "", "s3cret-pw").id], query, 5.0)[0]


def test_only_the_entry_point_methods_are_callable(gateway: GatewayProcess, edge_target: testbed.JavaTarget) -> None:
    assert scrape(gateway, edge_target).startswith("UP\n")
    client = gateway._client
    assert client is not None
    with pytest.raises(Py4JError):
        client.jvm.java.lang.System.getProperty("user.home")
    with pytest.raises(Py4JError, match="refused"):
        client.entry_point.getClass()
    with pytest.raises(Py4JError, match="refused"):
        client.entry_point.hashCode()
    assert scrape(gateway, edge_target).startswith("UP\n")  # refusals leave the connection usable


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_client_without_the_token_is_refused(gateway: GatewayProcess, token: str | None) -> None:
    intruder = JavaGateway(
        gateway_parameters=GatewayParameters(address="127.0.0.1", port=gateway.port, auth_token=token)
    )
    try:
        with pytest.raises(Py4JError):
            intruder.entry_point.scrape("x", "handle", 1000)
    finally:
        intruder.close()


def test_secrets_stay_off_the_command_line_and_environment_and_it_listens_on_loopback_only(
    gateway: GatewayProcess,
) -> None:
    cmdline = Path(f"/proc/{gateway.pid}/cmdline").read_bytes()
    assert b"s3cret" not in cmdline and b"JmxGateway" in cmdline
    assert b"-Xmx64m" in cmdline
    environ = dict(
        entry.split(b"=", 1) for entry in Path(f"/proc/{gateway.pid}/environ").read_bytes().split(b"\0") if entry
    )
    assert b"s3cret" not in b"".join(environ.values()), "a secret of the collector's environment reached the JVM"
    assert set(environ) <= {key.encode() for key in ENVIRONMENT_KEYS}, environ.keys()
    assert environ.get(b"PATH") == os.environ["PATH"].encode()
    port = f"{gateway.port:04X}"
    listening = {
        line.split()[1].rsplit(":", 1)[0]
        for table in ("/proc/net/tcp", "/proc/net/tcp6")
        for line in Path(table).read_text().splitlines()[1:]
        if line.split()[3] == "0A" and line.split()[1].endswith(f":{port}")
    }
    # Java may use a dual-stack socket: 127.0.0.1 then shows as ::ffff:127.0.0.1 in tcp6.
    assert listening and listening <= {"0100007F", "0000000000000000FFFF00000100007F"}, listening


def test_supervisor_restarts_a_killed_gateway(
    edge_target: testbed.JavaTarget, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    restarts: list[int] = []
    supervisor = GatewaySupervisor(
        JvmSpec(), logging.LoggerAdapter(logging.getLogger("t"), {}), on_restart=lambda: restarts.append(1)
    )
    target = RmiTarget(edge_target.service_url)
    try:
        assert supervisor.scrape([target], QUERY, 5.0)[0].startswith("UP\n")
        assert supervisor.current is not None
        first = supervisor.current.pid
        os.kill(first, signal.SIGKILL)
        # Restarted at once by its watcher, before any scrape asks for it.
        wait_for(
            lambda: (current := supervisor.current) is not None and current.pid != first and current.alive,
            15,
            "the killed gateway restarted",
        )
        assert supervisor.current is not None and target.id in supervisor.current.opened, "opened in the new JVM"
        assert supervisor.scrape([target], QUERY, 5.0)[0].startswith("UP\n")
    finally:
        supervisor.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("gateway JVM exited" in m for m in messages) == 1
    assert sum("gateway JVM started" in m for m in messages) == 2
    assert restarts == [1], "the restart is counted once (collector_jmx_gateway_restarts)"
    assert not testbed.pid_alive(first)


def test_sigkill_of_the_collector_leaves_no_orphan_gateway(edge_target: testbed.JavaTarget, tmp_path: Path) -> None:
    """The gateway exits when its stdin reaches end of file, which a SIGKILLed collector cannot prevent."""
    config = write_config(
        tmp_path,
        {
            "receivers": {
                "jmx": {"endpoint": edge_target.endpoint, "target_system": "jvm", "collection_interval": "1s"}
            },
            "exporters": {"debug": {}},
            "service": {"pipelines": {"metrics": {"receivers": ["jmx"], "exporters": ["debug"]}}},
        },
    )
    with run_collector(config) as collector:
        gateways = wait_for(lambda: testbed.gateway_pids(collector.process.pid), 30, "the collector's gateway JVM")
        collector.stop(signal.SIGKILL)
    wait_for(lambda: not testbed.pid_alive(gateways[0]), 15, "the orphaned gateway JVM to exit")


def test_missing_java_is_one_clear_error() -> None:
    with pytest.raises(GatewayError, match="openjdk-17-jdk-headless"):
        classpath("no-such-java-binary")


def test_the_gateway_is_compiled_once_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JMX_GATEWAY_CACHE", str(tmp_path))
    first = classpath()
    built = sorted(p.name for p in tmp_path.iterdir())
    assert len(built) == 1 and built[0].startswith("gateway-")
    assert (tmp_path / built[0] / "jmxotel" / "JmxGateway.class").is_file()
    assert classpath() == first


def test_one_call_answers_every_target_in_order_each_framed_by_its_length(
    gateway: GatewayProcess, edge_target: testbed.JavaTarget
) -> None:
    """A batch's replies are cut by their lengths in code points: a character outside the BMP (two Java
    chars, one Python character) in the first reply must not shift the ones after it."""
    label = "lag \U0001f680 rising"
    with testbed.shaped_target({"test.unicode:type=Shaped": f"Count,Label={label}"}) as unicode_target:
        shaped = RmiTarget(unicode_target.service_url)
        gateway.open(shaped)
        edge = RmiTarget(edge_target.service_url, "", "s3cret-pw")
        query = f"{QUERY}\n1\ttest.unicode:type=Shaped\tCount\t$Label"
        replies = gateway.scrape([shaped.id, edge.id, "never-opened", shaped.id], query, 5.0)
    assert len(replies) == 4
    first, second, unknown, again = ({b.name: b for b in parse_reply(r).beans} for r in replies)
    assert first["test.unicode:type=Shaped"].strings["Label"] == label, replies[0]
    assert first["java.lang:type=Runtime"].numbers["Uptime"] > 0, replies[0]
    assert set(second) == {"java.lang:type=Runtime"}, replies[1]
    assert not unknown and parse_reply(replies[2]).detail == "not opened in this gateway"
    assert not again, "a target still connecting (on its own thread) is not read a second time meanwhile"
    assert "the previous scrape of this target has not returned yet" in parse_reply(replies[3]).detail


@pytest.mark.timeout(60)
def test_a_target_that_never_answers_costs_only_its_own_reply(
    gateway: GatewayProcess, edge_target: testbed.JavaTarget
) -> None:
    """A target whose RMI registry accepts and then says nothing (a hung JVM) is connected on a thread of its
    own: the batch answers the healthy target and the hung one by the deadline, scrape after scrape."""
    edge = RmiTarget(edge_target.service_url, "", "s3cret-pw")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        hung = RmiTarget(f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{silent.getsockname()[1]}/jmxrmi")
        gateway.open(hung)
        for _ in range(3):
            started = time.monotonic()
            healthy, stuck = (parse_reply(r) for r in gateway.scrape([edge.id, hung.id], QUERY, 1.0))
            elapsed = time.monotonic() - started
            assert healthy.up and healthy.beans[0].numbers["Uptime"] > 0
            assert not stuck.up and "still trying" in stuck.detail, stuck
            assert elapsed < 1.0 + 1.0, f"the batch waited {elapsed:.1f}s past its 1 s deadline"
        gateway.close(hung.id)
