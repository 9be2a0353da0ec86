"""The gateway JVM's hardening and lifecycle, against a real target JVM."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from py4j.java_gateway import GatewayParameters, JavaGateway
from py4j.protocol import Py4JError

from receivers.jmx.gateway import GatewayError, GatewayProcess, GatewaySupervisor, LaunchSpec, classpath
from tests.jmx import testbed
from tests.support import wait_for

pytestmark = pytest.mark.integration
QUERY = "0\tjava.lang:type=Runtime\tUptime"


@pytest.fixture
def gateway(edge_target: testbed.JavaTarget):
    spec = LaunchSpec(
        service_url=edge_target.service_url,
        password="s3cret-pw",
        system_properties={"javax.net.ssl.trustStorePassword": "tr-s3cret"},
    )
    process = GatewayProcess(spec)
    process.start()
    yield process
    process.stop()


def test_only_the_entry_point_scrape_is_callable(gateway: GatewayProcess) -> None:
    assert gateway.scrape(QUERY).startswith("UP\n")
    client = gateway._client
    assert client is not None
    with pytest.raises(Py4JError):
        client.jvm.java.lang.System.getProperty("user.home")
    with pytest.raises(Py4JError, match="refused"):
        client.entry_point.getClass()
    with pytest.raises(Py4JError, match="refused"):
        client.entry_point.hashCode()
    assert gateway.scrape(QUERY).startswith("UP\n")  # refusals leave the connection usable


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_client_without_the_token_is_refused(gateway: GatewayProcess, token: str | None) -> None:
    intruder = JavaGateway(
        gateway_parameters=GatewayParameters(address="127.0.0.1", port=gateway.port, auth_token=token)
    )
    try:
        with pytest.raises(Py4JError):
            intruder.entry_point.scrape(QUERY)
    finally:
        intruder.close()


def test_secrets_stay_off_the_command_line_and_it_listens_on_loopback_only(gateway: GatewayProcess) -> None:
    cmdline = Path(f"/proc/{gateway.pid}/cmdline").read_bytes()
    assert b"s3cret" not in cmdline and b"JmxGateway" in cmdline
    assert b"-Xmx64m" in cmdline
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
    supervisor = GatewaySupervisor(
        LaunchSpec(service_url=edge_target.service_url), logging.LoggerAdapter(logging.getLogger("t"), {})
    )
    try:
        assert supervisor.scrape(QUERY).startswith("UP\n")
        first = supervisor.current.pid
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: not supervisor.current.alive, 10, "the killed gateway to be reaped")
        assert supervisor.scrape(QUERY).startswith("UP\n")
        assert supervisor.current.pid != first
    finally:
        supervisor.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("gateway JVM exited" in m for m in messages) == 1
    assert sum("gateway JVM started" in m for m in messages) == 2
    assert not testbed.pid_alive(first)


def test_gateway_exits_when_its_parent_is_killed(edge_target: testbed.JavaTarget, tmp_path: Path) -> None:
    """SIGKILL of the process that launched the gateway leaves no orphan JVM (stdin reaches EOF)."""
    script = tmp_path / "parent.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
            from receivers.jmx.gateway import GatewayProcess, LaunchSpec
            process = GatewayProcess(LaunchSpec(service_url={edge_target.service_url!r}))
            process.start()
            print(process.pid, flush=True)
            time.sleep(600)
            """
        )
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    gateway_pid = int(parent.stdout.readline())
    assert testbed.pid_alive(gateway_pid)
    parent.kill()
    parent.wait(10)
    wait_for(lambda: not testbed.pid_alive(gateway_pid), 15, "the orphaned gateway JVM to exit")


def test_missing_java_is_one_clear_error() -> None:
    with pytest.raises(GatewayError, match="openjdk-17-jdk-headless"):
        classpath("no-such-java-binary")


def test_the_gateway_is_compiled_once_into_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JMX_GATEWAY_CACHE", str(tmp_path))
    first = classpath()
    built = sorted(p.name for p in tmp_path.iterdir())
    assert len(built) == 1 and built[0].startswith("gateway-")
    assert (tmp_path / built[0] / "JmxGateway.class").is_file()
    assert classpath() == first
