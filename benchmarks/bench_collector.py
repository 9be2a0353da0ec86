"""The real collector process running the shipped default pipeline (otel-config.yaml: jmx/debezium ->
memory_limiter + metricstransform -> awsemf on stdout) against a JVM registering Debezium-shaped MBeans
(bench_jmx's target): its memory after 10 scrapes, its CPU (and its gateway JVM's) per scrape at steady
state, and the time from process start until the first batch reaches a `file` exporter.

Scrapes are counted from what reached the exporter (distinct EMF timestamps, or file lines), so a scrape
that failed is not counted as one.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.bench_jmx import debezium_target, rss_mib
from benchmarks.figures import Figure
from tests.jmx import testbed
from tests.support import REPO, free_port, run_collector, wait_for, write_config

FIGURES = ("collector_rss_mib", "cpu_ms_per_scrape", "first_export_s")
SHIPPED_CONFIG = REPO / "otel-config.yaml"
INTERVAL_S = 1.0  # scrapes per second in the steady-state run (COLLECTION_INTERVAL)
WARM_SCRAPES = 10  # the "after 10 scrapes"


def _cpu_seconds(pid: int) -> float:
    """utime + stime of one process so far (its threads included), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _emf_scrapes(log: Path) -> int:
    """Scrapes whose EMF documents reached stdout: one `_aws.Timestamp` per scrape."""
    stamps = set()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith('{"_aws"') or '"_aws":' in line:
            with_directive: dict[str, Any] = json.loads(line)
            stamps.add(with_directive["_aws"]["Timestamp"])
    return len(stamps)


def _environment(target: testbed.JavaTarget, interval_s: float) -> dict[str, str]:
    return {
        "JMX_ENDPOINT": target.endpoint,
        "COLLECTION_INTERVAL": f"{int(interval_s * 1000)}ms",
        "HEALTH_CHECK_ENDPOINT": f"127.0.0.1:{free_port()}",
    }


def _steady_state(target: testbed.JavaTarget, directory: Path, measured_scrapes: int) -> tuple[float, float]:
    """(collector RSS in MiB after 10 scrapes, collector + gateway CPU ms per scrape over the next ones)."""
    config = directory / "otel-config.yaml"
    config.write_text(SHIPPED_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    with run_collector(config, env=_environment(target, INTERVAL_S)) as collector:
        pid = collector.process.pid

        def scrapes() -> int:
            if collector.process.poll() is not None:
                raise AssertionError(f"the collector exited:\n{collector.logs()[-3000:]}")
            return _emf_scrapes(collector.log_path)

        timeout = 30 + WARM_SCRAPES * INTERVAL_S * 3
        wait_for(lambda: scrapes() >= WARM_SCRAPES, timeout, "10 scrapes exported", interval=INTERVAL_S / 10)
        rss = rss_mib(pid)
        [gateway] = testbed.gateway_pids(pid)
        start_count = scrapes()
        start_cpu = _cpu_seconds(pid) + _cpu_seconds(gateway)
        wanted = start_count + measured_scrapes
        wait_for(lambda: scrapes() >= wanted, timeout + measured_scrapes * INTERVAL_S * 3, "steady-state scrapes")
        cpu = _cpu_seconds(pid) + _cpu_seconds(gateway) - start_cpu
        return rss, cpu * 1000 / (scrapes() - start_count)


def _file_pipeline_config(directory: Path, output: Path) -> Path:
    """The shipped config with its exporter swapped for `file`: same receiver, processors and defaults."""
    config = yaml.safe_load(SHIPPED_CONFIG.read_text(encoding="utf-8"))
    config["exporters"] = {"file": {"path": str(output)}}
    config["service"]["pipelines"]["metrics"]["exporters"] = ["file"]
    return write_config(directory, config, "first-export.yaml")


def _first_export_s(target: testbed.JavaTarget, directory: Path) -> float:
    output = directory / "first-export.jsonl"
    output.unlink(missing_ok=True)
    config = _file_pipeline_config(directory, output)
    started = time.perf_counter()
    with run_collector(config, env=_environment(target, INTERVAL_S)) as collector:
        wait_for(
            lambda: collector.process.poll() is None and output.exists() and output.read_bytes().endswith(b"\n"),
            60,
            "a first batch in the file exporter's output",
            interval=0.01,
        )
        return time.perf_counter() - started


def run(quick: bool) -> list[Figure]:
    with debezium_target() as target, tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        directory = Path(tmp)
        rss, cpu_ms = _steady_state(target, directory, measured_scrapes=10 if quick else 60)
        first_export = statistics.median(_first_export_s(target, directory) for _ in range(1 if quick else 5))
    return [
        Figure("collector_rss_mib", rss, "MiB", target="<= 120"),
        Figure("cpu_ms_per_scrape", cpu_ms, "ms"),
        Figure("first_export_s", first_export, "s", target="<= 3"),
    ]
