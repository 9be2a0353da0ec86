"""`collector demo` (what `scripts/run` runs without JMX_ENDPOINT): the shipped otel-config.yaml through the
real pipeline (gateway JVM, preset, processors, EMF on stdout) against the demo connector JVM, whose values
must move; and the demo's MBeans must look like the real Debezium connector's to the JMX client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from receivers.jmx import demo, gateway
from tests.jmx import testbed
from tests.support import REPO, free_port, wait_for, write_config

CONTEXTS = ("snapshot", "streaming", "schema-history")


def emf_documents(path: Path) -> list[dict]:
    text = path.read_text(errors="replace")
    complete = text[: text.rfind("\n") + 1]
    return [json.loads(line) for line in complete.splitlines() if line.startswith("{")]


def series(documents: list[dict], metric: str) -> list[float]:
    return [d[metric] for d in documents if d.get("server") == demo.SERVER_NAME and metric in d]


@pytest.fixture
def demo_run(tmp_path: Path):
    """`collector demo` on the shipped config, as a newcomer runs it (no JMX_ENDPOINT), on free ports."""
    ports = write_config(
        tmp_path,
        {"service": {"telemetry": {"metrics": {"address": f"127.0.0.1:{free_port()}"}}}},
        "ports.yaml",
    )
    env = {k: v for k, v in os.environ.items() if k != "JMX_ENDPOINT"}
    env |= {"COLLECTION_INTERVAL": "1s", "HEALTH_CHECK_ENDPOINT": f"127.0.0.1:{free_port()}"}
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    command = [sys.executable, "-m", "collector", "demo", "--snapshot-seconds", "3"]
    command += ["--config", str(REPO / "otel-config.yaml"), "--config", str(ports)]
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=tmp_path)
    try:
        yield process, stdout, stderr
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(40)


def test_demo_shows_moving_values_through_the_shipped_pipeline(demo_run):
    process, stdout, stderr = demo_run

    def streamed_a_while() -> bool:
        lags = series(emf_documents(stdout), "debezium.streaming.MilliSecondsBehindSource")
        return len(set(lags)) >= 3

    wait_for(streamed_a_while, 90, "three different lags from the demo in EMF on stdout", 0.5)
    documents = emf_documents(stdout)

    first_line = stderr.read_text().splitlines()[0]
    assert "demo" in first_line and "JMX_ENDPOINT=host:port scripts/run" in first_line, first_line
    # The snapshot completes: running, then completed, with no table left.
    running = series(documents, "debezium.snapshot.SnapshotRunning")
    completed = series(documents, "debezium.snapshot.SnapshotCompleted")
    assert running[0] == 1 and running[-1] == 0, running
    assert completed[0] == 0 and completed[-1] == 1, completed
    assert series(documents, "debezium.snapshot.RemainingTableCount")[-1] == 0
    # Streaming: events count up, lag moves (and reaches the reference sample's metric too).
    events = series(documents, "debezium.streaming.TotalNumberOfEventsSeen")
    assert events == sorted(events) and events[-1] > events[0], events
    assert len(set(series(documents, "debezium.streaming.MilliSecondsBehindSource"))) >= 3
    reference = [d for d in documents if d.get("DBServerName") == demo.SERVER_NAME and "MilliSecondBehindSource" in d]
    assert reference and reference[-1]["MilliSecondBehindSource"] > 0, documents[-1]

    process.terminate()
    assert process.wait(40) == 0
    # The demo JVM went with it: no child of the collector is left running.
    assert not testbed.child_pids(process.pid)


def attribute_types(service_url: str, classes: Path) -> dict[str, set[tuple[str, str]]]:
    """{context: {(attribute, type)}} of the connector MBeans, from their MBeanInfo (tests/ops/java)."""
    result = subprocess.run(
        ["java", "-cp", str(classes), "MBeanTypes", service_url, "debezium.mysql:type=connector-metrics,*"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, set[tuple[str, str]]] = {}
    for line in result.stdout.splitlines():
        name, attribute, kind = line.split("\t")
        found.setdefault(name.split("context=")[1].split(",")[0], set()).add((attribute, kind))
    return found


def test_demo_mbeans_have_the_real_connectors_names_and_types(debezium, tmp_path):
    """Every attribute the real connector's three MBeans offer, with its type, the demo's offer too, and no
    other: a dashboard built on the demo works on the real connector."""
    classes = tmp_path / "classes"
    gateway.compile_java([Path(__file__).parent / "java" / "MBeanTypes.java"], [], classes)
    target = demo.start_target()
    try:
        demo_attributes = attribute_types(f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{target.port}/jmxrmi", classes)
    finally:
        target.stop()
    real = attribute_types(debezium.target.service_url, classes)
    assert set(real) == set(CONTEXTS) == set(demo_attributes)
    for context in CONTEXTS:
        assert demo_attributes[context] == real[context], (
            context,
            demo_attributes[context] ^ real[context],
        )


def test_scripts_run_without_jmx_endpoint_is_the_demo(tmp_path):
    """The newcomer's command as README gives it: set-up, then live EMF from the demo, told it is a demo."""
    env = {k: v for k, v in os.environ.items() if k != "JMX_ENDPOINT"}
    env["HEALTH_CHECK_ENDPOINT"] = f"127.0.0.1:{free_port()}"
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen([str(REPO / "scripts" / "run")], stdout=out, stderr=err, env=env)
    try:
        wait_for(lambda: series(emf_documents(stdout), "debezium.snapshot.SnapshotRunning"), 120, "demo EMF", 0.5)
        logs = [line for line in stderr.read_text().splitlines() if " INFO " in line or " ERROR " in line]
        assert "demo:" in logs[0] and "JMX_ENDPOINT=host:port scripts/run" in logs[0], logs[:3]
    finally:
        process.terminate()
        assert process.wait(40) == 0
