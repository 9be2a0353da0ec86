"""`python -m benchmarks --quick` as CI runs it: it completes, writes its JSON, and every figure issue 8
names is there with a finite value (and a finite ratio where it has a peer). Values are not compared with
targets here: wall-clock figures on a shared machine would make the test flaky, not informative.

Needs a JDK (the Debezium-shaped MBean JVM of tests/jmx), not the Debezium test bed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

# Issue 8's figures: (unit, whether it is compared with a peer and so carries a ratio, its target).
FIGURES = {
    "jmx_scrape_batched_ms": ("ms", True, "ratio <= 2"),
    "jmx_scrape_per_attribute_ms": ("ms", True, "ratio >= 10"),
    "jmx_scrape_java_bulk_ms": ("ms", False, None),
    "jmx_scrape_jmxquery_ms": ("ms", True, "ratio >= 50"),
    "gateway_rss_mib": ("MiB", False, "<= 64"),
    "gateway_start_ms": ("ms", False, None),
    "collector_rss_mib": ("MiB", False, "<= 120"),
    "pipeline_points_per_sec": ("points/s", False, ">= 200000"),
    "emf_encode_points_per_sec": ("points/s", True, "ratio >= 3"),
    "otlp_encode_points_per_sec": ("points/s", True, None),
    "first_export_s": ("s", False, "<= 3"),
    "cpu_ms_per_scrape": ("ms", False, None),
    # Issue 15's fleet figures (50 RMI targets through one gateway JVM).
    "fleet_50_rss_mib": ("MiB", False, "<= 200"),
    "fleet_50_rss_per_target_mib": ("MiB", False, None),
    "fleet_50_scrape_ms": ("ms", False, "<= 500"),
    "fleet_cpu_ms_per_target_scrape": ("ms", False, "<= 2"),
}


@pytest.mark.timeout(600)
def test_quick_run_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "figures.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=570,
    )
    assert result.returncode == 0, f"benchmark run failed:\n{result.stderr[-5000:]}"
    figures = {f["name"]: f for f in json.loads(output.read_text(encoding="utf-8"))}

    assert sorted(set(FIGURES) - set(figures)) == [], result.stdout
    for name, (unit, has_peer, target) in FIGURES.items():
        figure = figures[name]
        assert set(figure) >= {"name", "value", "unit", "peer", "ratio"}, figure
        assert isinstance(figure["value"], int | float) and math.isfinite(figure["value"]), figure
        assert figure["value"] > 0 and figure["unit"] == unit, figure
        if has_peer:
            assert figure["peer"] and math.isfinite(figure["ratio"]) and figure["ratio"] > 0, figure
        if target:
            assert figure["target"] == target, figure
    # The printed table names every figure too.
    assert all(name in result.stdout for name in FIGURES)
