"""Helpers shared by the test suites: run the real collector, read what the file exporter wrote."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics.export import MetricExportResult, MetricsData

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PLUGIN = REPO / "examples" / "static-receiver-plugin"


@dataclass
class Point:
    """One data point as the file exporter wrote it, flattened for assertions."""

    name: str
    type: str  # gauge | sum | histogram | exponentialHistogram
    unit: str
    value: Any  # number for gauge/sum, the whole point dict otherwise
    attributes: dict[str, Any]
    resource: dict[str, Any]
    start_time: int
    time: int
    temporality: int | None = None
    monotonic: bool | None = None


def _any_value(value: dict[str, Any]) -> Any:
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    return None


def _attributes(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {item.get("key", ""): _any_value(item.get("value", {})) for item in items or []}


def read_points(path: str | Path) -> list[Point]:
    """Every point in an OTLP/JSON lines file, in file order."""
    points: list[Point] = []
    file = Path(path)
    if not file.exists():
        return points
    text = file.read_text(encoding="utf-8")
    # The exporter may be writing a line right now: only lines it finished (newline-terminated) count.
    complete = text[: text.rfind("\n") + 1]
    for line in complete.splitlines():
        if not line.strip():
            continue
        request = json.loads(line)
        for rm in request.get("resourceMetrics", []):
            resource = _attributes(rm.get("resource", {}).get("attributes"))
            for sm in rm.get("scopeMetrics", []):
                for metric in sm.get("metrics", []):
                    for kind in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                        if kind in metric:
                            body = metric[kind]
                            break
                    else:
                        continue
                    for dp in body.get("dataPoints", []):
                        if "asInt" in dp:
                            value: Any = int(dp["asInt"])
                        elif "asDouble" in dp:
                            value = dp["asDouble"]
                        elif kind in ("gauge", "sum"):
                            value = 0
                        else:
                            value = dp
                        points.append(
                            Point(
                                name=metric.get("name", ""),
                                type=kind,
                                unit=metric.get("unit", ""),
                                value=value,
                                attributes=_attributes(dp.get("attributes")),
                                resource=resource,
                                start_time=int(dp.get("startTimeUnixNano", 0)),
                                time=int(dp.get("timeUnixNano", 0)),
                                temporality=body.get("aggregationTemporality"),
                                monotonic=body.get("isMonotonic"),
                            )
                        )
    return points


def free_port() -> int:
    """A loopback port nothing listens on right now (other test runs share the machine)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on a loopback port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for(condition: Callable[[], Any], timeout: float, message: str, interval: float = 0.1) -> Any:
    """Poll until `condition()` is truthy; fail with `message` (and the last value) otherwise."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message} (last: {last!r})")


def own_metric(port: int, series: str) -> float:
    """One series of a running collector's own metrics endpoint, e.g. `name{label="value"}`."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(series + " "):
                return float(line.split()[-1])
    raise AssertionError(f"{series} not exposed")


def terminate(process: subprocess.Popen[Any] | None, grace: float = 30) -> None:
    """Stop a server the tests started: SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def wait_listening(process: CollectorProcess, *ports: int, timeout: float = 30) -> None:
    """Wait until a started collector listens on every port; fail with its log if it does not."""
    try:
        wait_for(lambda: all(listening(port) for port in ports), timeout, f"collector listening on {ports}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{process.logs()}") from None


def pipeline_config(
    receivers: dict[str, Any],
    exporters: dict[str, Any],
    processors: dict[str, Any] | None = None,
    extensions: dict[str, Any] | None = None,
    **service: Any,
) -> dict[str, Any]:
    """A config of one `metrics` pipeline through every component given, in order; extensions enabled;
    `service` adds keys to the service section (e.g. `telemetry`)."""
    pipeline = {"receivers": list(receivers), "processors": list(processors or {}), "exporters": list(exporters)}
    config: dict[str, Any] = {"receivers": receivers, "processors": processors or {}, "exporters": exporters}
    config["service"] = {**service, "pipelines": {"metrics": pipeline}}
    if extensions:
        config["extensions"] = extensions
        config["service"]["extensions"] = list(extensions)
    return config


def write_config(directory: Path, config: dict[str, Any], name: str = "otel-config.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class CollectorProcess:
    process: subprocess.Popen[str]
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


TELEMETRY_ON_FREE_PORT = {"service": {"telemetry": {"metrics": {"address": "127.0.0.1:0"}}}}


@contextmanager
def run_collector(
    config_path: Path,
    *extra_args: str,
    env: dict[str, str] | None = None,
    free_telemetry_port: bool = True,
    prefix: Sequence[str] = (),
    python: str | Path = sys.executable,
) -> Iterator[CollectorProcess]:
    """The real `collector run` in a subprocess (this interpreter's environment, or `python`'s: the
    `example_plugin` fixture's has the plugin); stopped on exit.

    `prefix` runs it under another command that execs it, e.g. `("prlimit", "--nofile=256:512")`.

    Unless told otherwise, a second config file moves the collector's own metrics endpoint to a free port,
    so tests (and other test runs on the machine) never fight over the default localhost:8888.
    """
    log_path = config_path.with_suffix(".log")
    configs = ["--config", str(config_path)]
    if free_telemetry_port:
        override = write_config(config_path.parent, TELEMETRY_ON_FREE_PORT, f"{config_path.stem}.telemetry.yaml")
        configs += ["--config", str(override)]
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [*prefix, str(python), "-m", "collector", *extra_args, "run", *configs],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=config_path.parent,
            env={**os.environ, **(env or {})},
        )
    running = CollectorProcess(process, log_path)
    try:
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def plugin_environment(directory: Path, plugin: Path) -> Path:
    """A virtualenv in `directory` with the plugin at `plugin` installed, that sees everything this
    environment has (the collector included) through a `.pth` file; returns its python. The project's own
    environment never gets the plugin, so `collector components` there lists only what the user installed."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(directory)], check=True)
    python = directory / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # addsitedir, not a bare path: it also runs this environment's own .pth files (the editable install)
    own = sysconfig.get_path("purelib")
    (Path(purelib) / "collector-test-environment.pth").write_text(f"import site; site.addsitedir({own!r})\n")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(plugin)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"cannot pip-install {plugin}:\n{result.stdout}\n{result.stderr}")
    return python


def send_otlp(port: int, *batches: MetricsData) -> None:
    """Send each batch to a collector's OTLP/gRPC receiver on loopback with the SDK's own exporter (a real
    client, not ours), and fail unless every one was accepted."""
    exporter = OTLPMetricExporter(endpoint=f"127.0.0.1:{port}", insecure=True)
    try:
        for data in batches:
            assert exporter.export(data) is MetricExportResult.SUCCESS
    finally:
        exporter.shutdown()


def collector_components(python: str | Path = sys.executable) -> list[list[str]]:
    """The rows of `collector components` as `python`'s environment lists them."""
    out = subprocess.run([str(python), "-m", "collector", "components"], capture_output=True, text=True, check=True)
    return [line.split() for line in out.stdout.splitlines()]


def run_plugin_tests(python: str | Path, package: Path) -> str:
    """A plugin's own tests (`package/tests`), run by pytest in the plugin's environment; their summary."""
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=package,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
