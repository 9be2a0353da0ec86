"""Test bed of the in-JVM gateway: the jar as `collector gateway-jar` builds it, TLS material, a target JVM
started with the gateway as a Java agent."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from opentelemetry.sdk.metrics.export import MetricsData, NumberDataPoint

from tests.jmx import testbed
from tests.tlscerts import server_keystore

COLLECTOR = [sys.executable, "-m", "collector"]
# The gateway's own counters, read through the gateway like any MBean.
STATS_RULE = {
    "bean": "jmxotel:type=Gateway",
    "mapping": {
        "RefusedConnections": {"metric": "gateway.refused", "type": "counter"},
        "Holders": {"metric": "gateway.holders"},
    },
}


def value(data: MetricsData, name: str, **attributes: str) -> float:
    """The value of the one point of `name` with these attributes in a scrape's MetricsData."""
    found = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == name
        for point in metric.data.data_points
        if all((point.attributes or {}).get(k) == v for k, v in attributes.items())
    ]
    assert len(found) == 1, f"{name} {attributes}: {found}"
    assert isinstance(found[0], NumberDataPoint), found[0]
    return found[0].value


@dataclass(frozen=True)
class GatewayJar:
    jar: Path
    py4j_jar: Path
    connector_class: str


def build_jar(out: Path) -> GatewayJar:
    """`collector gateway-jar` with the Debezium connector's jars (from the test bed's cache)."""
    result = subprocess.run(
        [*COLLECTOR, "gateway-jar", "--out", str(out), "--connector-classpath", str(testbed.debezium_libs())],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    built = json.loads(result.stdout)
    assert built["agent"] is True
    return GatewayJar(Path(built["jar"]), Path(built["py4j_jar"]), built["connector_class"])


@dataclass(frozen=True)
class Secrets:
    """A token file and a TLS keystore (with its password file) for the gateway, and the CA the collector trusts."""

    token: str
    token_file: Path
    keystore: Path
    keystore_password_file: Path
    ca_file: Path

    def agent_settings(self) -> dict[str, str]:
        return {
            "token_file": str(self.token_file),
            "tls_keystore": str(self.keystore),
            "tls_keystore_password_file": str(self.keystore_password_file),
        }


def make_secrets(directory: Path) -> Secrets:
    token = secrets.token_urlsafe(32)
    password = secrets.token_urlsafe(16)
    keystore, ca = server_keystore(directory, password)
    token_file = directory / "gateway.token"
    token_file.write_text(token + "\n")
    password_file = directory / "keystore.password"
    password_file.write_text(password)
    return Secrets(token, token_file, keystore, password_file, ca)


def agent_option(jar: GatewayJar, settings: dict[str, str]) -> str:
    return f"-javaagent:{jar.jar}=" + ",".join(f"{k}={v}" for k, v in settings.items())


def start_agent_target(jar: GatewayJar, settings: dict[str, str]) -> testbed.JavaTarget:
    """A plain JVM (the edge-case MBeans, JMX on loopback for direct reads) with the gateway as its agent."""
    return testbed.start_target(
        "EdgeCaseTarget", classpath=testbed.testbed_classes(), jvm_options=[agent_option(jar, settings)]
    )


@contextmanager
def agent_target(jar: GatewayJar, settings: dict[str, str]) -> Iterator[testbed.JavaTarget]:
    """`start_agent_target`, stopped on exit."""
    target = start_agent_target(jar, settings)
    try:
        yield target
    finally:
        target.stop()


def agent_refusal(jar: GatewayJar, settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Start a JVM with the agent and these settings; the JVM exits at once (stdin is empty)."""
    return subprocess.run(
        ["java", agent_option(jar, settings), "-cp", testbed.testbed_classes(), "EdgeCaseTarget", "0"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---------------------------------------------------------------------------------------------------
# Dial-out: the recipe of docs/msk-connect.md, the collector's listening side, the worker's sockets

DOC = Path(__file__).resolve().parents[2] / "docs" / "msk-connect.md"
MYSQL_WRAPPER = "jmxotel.connect.GatewayMySqlConnector"  # the first releases' class name


def doc_recipe(name: str) -> str:
    """The fenced bash block that follows `<!-- recipe:NAME -->` in docs/msk-connect.md, verbatim."""
    text = DOC.read_text()
    marker = f"<!-- recipe:{name} -->\n```bash\n"
    start = text.index(marker) + len(marker)
    return text[start : text.index("```", start)]


@dataclass(frozen=True)
class Recipe:
    """What the doc's commands made, in one directory."""

    directory: Path

    def file(self, name: str) -> Path:
        path = self.directory / name
        assert path.is_file(), f"the recipe made no {name}"
        return path

    @property
    def token(self) -> str:
        return self.file("gateway.token").read_text().strip()


def run_recipe(directory: Path, *names: str) -> Recipe:
    """Run the doc's blocks, in order, in `directory`, as a user would (bash, errors fatal), for `localhost`."""
    env = {**os.environ, "COLLECTOR_NAME": "localhost", "WORKER_NAME": "localhost"}
    for name in names:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", doc_recipe(name)],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"recipe {name} failed:\n{result.stdout}\n{result.stderr}"
    return Recipe(directory)


def listening_ports(pid: int) -> set[int]:
    """TCP ports a process listens on: its socket inodes (/proc/PID/fd) in LISTEN state in /proc/PID/net/tcp*."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def listen_config(port: int, recipe: Recipe, **extra: object) -> dict[str, object]:
    """A `listen` receiver on loopback with the recipe's certificate and token."""
    listen = {
        "endpoint": f"127.0.0.1:{port}",
        "auth_tokens": [recipe.token],
        "tls": {"cert_file": str(recipe.file("collector.pem")), "key_file": str(recipe.file("collector-key.pem"))},
        "keepalive": "1s",
        **extra,
    }
    return {"listen": listen}
