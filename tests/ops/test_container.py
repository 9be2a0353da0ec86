"""The image as shipped, built and run for real: on a stand-in base (tests/ops/docker.py), against the real
Debezium connector of the JMX test bed, hardened as docs/deploy.md says to run it (read-only root with a
tmpfs /tmp, uid 10001, no capabilities, no new privileges). Plus the static checks that keep the Dockerfile
honest where a run cannot see (its default base, the set-up path README gives).

If no Docker engine can be started on the machine, the run tests skip with the reason; CI installs one
(scripts/install-test-servers.d/docker.sh) and this module starts dockerd itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ops import docker
from tests.ops.conftest import scrape_own_metrics
from tests.support import REPO, free_port, wait_for, write_config

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
CONFIG_IN_IMAGE = "/etc/collector/otel-config.yaml"
STOP_TIMEOUT_S = 35  # above the shipped shutdown_grace_period (30s), as docs/deploy.md asks of platforms
HEALTHY_WITHIN_S = 90
DROPPED = "collector_dropped_metric_points_total"
MEMORY_LIMIT_MIB = 256  # the limit deploy/ manifests give the container


def instructions(name: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^{name}\s+((?:[^\n]*\\\n)*[^\n]*)", DOCKERFILE, re.M)]


# ---------------------------------------------------------------------------------------------------
# Static: what a run on the stand-in base cannot show


def test_default_base_is_python_slim_and_replaceable():
    assert "ARG BASE_IMAGE=python:3.11-slim-bookworm" in DOCKERFILE
    froms = instructions("FROM")
    assert froms and all(line.split()[0] == "${BASE_IMAGE}" for line in froms), froms


def test_runs_as_a_numeric_non_root_user():
    """Numeric, so Kubernetes' runAsNonRoot can verify it without looking up /etc/passwd."""
    users = instructions("USER")
    assert users, "no USER instruction: the container would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, users[-1]
    assert f"useradd --system --uid {uid}" in DOCKERFILE


def test_builds_with_the_same_bootstrap_as_the_readme():
    assert any("scripts/bootstrap" in run for run in instructions("RUN"))
    assert "scripts/run" in (REPO / "README.md").read_text(encoding="utf-8")
    assert "scripts/bootstrap" in (REPO / "scripts" / "run").read_text(encoding="utf-8")


def test_copies_every_package_the_distribution_ships():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]]
    copied = {line.split()[0].rstrip("/") for line in instructions("COPY") if not line.startswith("--")}
    assert set(packages) <= copied, f"Dockerfile does not COPY {set(packages) - copied}"


def test_health_check_reads_the_config_the_command_runs():
    (healthcheck,) = instructions("HEALTHCHECK")
    assert "collector" in healthcheck and "healthcheck" in healthcheck
    assert CONFIG_IN_IMAGE in healthcheck and CONFIG_IN_IMAGE in instructions("CMD")[0]
    assert "13133" not in healthcheck, "the probe must follow the configured endpoint, not a fixed port"


# ---------------------------------------------------------------------------------------------------
# Built and run


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[docker.Engine]:
    try:
        started = docker.start_engine(tmp_path_factory.mktemp("dockerd"))
    except docker.EngineUnavailable as exc:
        pytest.skip(f"CONTAINER TESTS NOT RUN, no Docker engine: {exc}")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def image(engine: docker.Engine, request: pytest.FixtureRequest) -> str:
    began = time.monotonic()
    tag = docker.build_image(docker.standin_base_image())
    size = docker.image_size(tag)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    message = f"image {tag}: {size / 2**20:.0f} MiB (built or reused in {time.monotonic() - began:.0f}s)"
    if reporter is not None:
        reporter.write_line(f"\n[container] {message}")
    return tag


def docker_logs(name: str) -> tuple[str, str]:
    result = docker.docker("logs", name, check=False)
    return result.stdout, result.stderr


def emf_with_reference_metric(stdout: str) -> list[dict]:
    documents = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [d for d in documents if "MilliSecondBehindSource" in d]


def emf_values(stdout: str) -> int:
    """Metric values in the EMF documents: every key but `_aws` and the string-valued dimensions."""
    documents = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return sum(1 for d in documents for key, value in d.items() if key != "_aws" and not isinstance(value, str))


def health_status(name: str) -> str:
    return docker.docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()


def process_status(pid: int) -> dict[str, str]:
    """The container's main process as the host kernel sees it."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def test_image_runs_hardened_against_the_real_connector(image: str, debezium, tmp_path: Path):
    health_port, telemetry_port = free_port(), free_port()
    # The host's network (the test bed listens on loopback), so the collector's own ports must be free ones.
    override = write_config(
        tmp_path, {"service": {"telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry_port}"}}}}, "ports.yaml"
    )
    override.chmod(0o644)
    name = f"collector-test-{uuid.uuid4().hex[:8]}"
    run = [
        "run", "-d", "--name", name, "--network", "host",
        "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--memory", f"{MEMORY_LIMIT_MIB}m",
        "--health-interval", "2s", "--health-start-period", "5s",
        "-v", f"{override}:/etc/collector/ports.yaml:ro",
        "-e", f"JMX_ENDPOINT={debezium.target.endpoint}",
        "-e", "COLLECTION_INTERVAL=2s",
        "-e", f"HEALTH_CHECK_ENDPOINT=127.0.0.1:{health_port}",
        image,
        "--log-format", "json", "run", "--config", CONFIG_IN_IMAGE, "--config", "/etc/collector/ports.yaml",
    ]  # fmt: skip
    docker.docker(*run)
    try:
        wait_for(
            lambda: emf_with_reference_metric(docker_logs(name)[0]), 120, "EMF with MilliSecondBehindSource on stdout"
        )
        wait_for(lambda: health_status(name) == "healthy", HEALTHY_WITHIN_S, "docker health status healthy", 1)

        state = json.loads(docker.docker("inspect", name).stdout)[0]
        assert state["HostConfig"]["ReadonlyRootfs"] is True
        main = process_status(state["State"]["Pid"])
        assert main["Uid"].split() == ["10001"] * 4, main["Uid"]
        assert int(main["CapEff"], 16) == 0 and int(main["CapPrm"], 16) == 0, main
        # The root file system refuses writes (the collector worked above without any); /tmp takes them.
        refused = docker.docker("exec", name, "sh", "-c", "touch /opt/collector/x", check=False)
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr, refused
        assert docker.docker("exec", name, "sh", "-c", "touch /tmp/x", check=False).returncode == 0

        document = emf_with_reference_metric(docker_logs(name)[0])[-1]
        assert document["DBServerName"] == "salesdb" and document["MilliSecondBehindSource"] >= 0, document

        own = scrape_own_metrics(telemetry_port)  # on the host's network, as a Prometheus sidecar would
        assert own['otelcol_receiver_accepted_metric_points_total{receiver="jmx/debezium"}'] > 0, own
        dropped = {series: value for series, value in own.items() if series.startswith(DROPPED)}
        assert not any(dropped.values()), dropped

        stopped = docker.docker("stop", "-t", str(STOP_TIMEOUT_S), name, timeout=STOP_TIMEOUT_S + 30)
        assert stopped.returncode == 0
        exit_state = json.loads(docker.docker("inspect", name).stdout)[0]["State"]
        assert exit_state["ExitCode"] == 0 and not exit_state["OOMKilled"], exit_state
        stdout, stderr = docker_logs(name)
        logs = [json.loads(line) for line in stderr.strip().splitlines()]
        # memory_limiter sized itself from the container's limit, not the host's memory.
        (limiter,) = [entry for entry in logs if entry["msg"] == "memory limiter started"]
        assert limiter["soft_limit_mib"] < limiter["hard_limit_mib"] <= MEMORY_LIMIT_MIB, limiter
        last = logs[-1]
        assert last["msg"] == "collector stopped", last
        # Nothing lost on the way out: no point failed or was refused by a queue, and every point the
        # collector counts as sent is a value on stdout, the last drained batch included. (accepted differs
        # from sent by design: awsemf turns counters into deltas, so each counter's first point only primes,
        # and metricstransform/reference inserts MilliSecondBehindSource beside the original.)
        assert last["accepted_points"] > 0 and last["failed_points"] == 0 and last["enqueue_failed_points"] == 0, last
        assert last["sent_points"] == emf_values(stdout), last
    finally:
        print(f"--- container stderr ---\n{docker_logs(name)[1][-4000:]}")
        docker.docker("rm", "-f", name, check=False)


def test_image_runs_the_demo_on_dockers_default_network(image: str):
    """`docker run IMAGE demo`: nothing to connect to, the demo target inside the container, on Docker's
    default bridge network (its loopback has no IPv6, though `localhost` also names ::1)."""
    name = f"collector-demo-{uuid.uuid4().hex[:8]}"
    run = [
        "run", "-d", "--name", name,
        "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--memory", f"{MEMORY_LIMIT_MIB}m", "--health-interval", "2s", "--health-start-period", "5s",
        "-e", "COLLECTION_INTERVAL=2s",
        image, "demo", "--snapshot-seconds", "3",
    ]  # fmt: skip
    docker.docker(*run)
    try:
        wait_for(
            lambda: [d for d in emf_with_reference_metric(docker_logs(name)[0]) if d["DBServerName"] == "demo"],
            120,
            "demo EMF on stdout",
        )
        wait_for(lambda: health_status(name) == "healthy", HEALTHY_WITHIN_S, "docker health status healthy", 1)
        first = docker_logs(name)[1].splitlines()[0]
        assert "demo:" in first and "JMX_ENDPOINT=host:port" in first, first
        docker.docker("stop", "-t", str(STOP_TIMEOUT_S), name, timeout=STOP_TIMEOUT_S + 30)
        assert json.loads(docker.docker("inspect", name).stdout)[0]["State"]["ExitCode"] == 0
    finally:
        print(f"--- demo container stderr ---\n{docker_logs(name)[1][-4000:]}")
        docker.docker("rm", "-f", name, check=False)


def service_output(logs: str) -> str:
    """`compose logs` lines without their `service_1  | ` prefix."""
    return "\n".join(line.split("| ", 1)[1] for line in logs.splitlines() if "| " in line)


def test_compose_demo_pair_runs(image: str):
    """deploy/docker-compose.yaml for real: the collector container reaches the demo container's JMX over
    the compose network (RMI stubs naming the service) and prints EMF."""
    compose = docker.compose_command()
    if compose is None:
        pytest.skip(docker.NO_COMPOSE)
    project = f"collector{uuid.uuid4().hex[:8]}"
    base = [*compose, "-p", project, "-f", str(REPO / "deploy" / "docker-compose.yaml")]
    env = {**os.environ, "COLLECTOR_IMAGE": image}

    def compose_run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, env=env, timeout=timeout)

    up = compose_run("up", "-d", "--no-build")
    try:
        assert up.returncode == 0, up.stderr

        def demo_emf() -> list[dict]:
            logs = service_output(compose_run("logs", "--no-color", "collector").stdout)
            return [d for d in emf_with_reference_metric(logs) if d["DBServerName"] == "demo"]

        wait_for(demo_emf, 120, "EMF from the demo in the collector service's log", 1)
    finally:
        compose_run("down", "-t", str(STOP_TIMEOUT_S), timeout=STOP_TIMEOUT_S * 2 + 60)
