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

# Issue 8's figures, and which of them it compares with a peer (so they carry a ratio).
FIGURES = {
    "jmx_scrape_batched_ms": True,
    "jmx_scrape_per_attribute_ms": True,
    "jmx_scrape_java_bulk_ms": False,
    "jmx_scrape_jmxquery_ms": True,
    "gateway_rss_mib": False,
    "gateway_start_ms": False,
    "collector_rss_mib": False,
    "pipeline_points_per_sec": False,
    "emf_encode_points_per_sec": True,
    "otlp_encode_points_per_sec": True,
    "first_export_s": False,
    "cpu_ms_per_scrape": False,
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
    for name, has_peer in FIGURES.items():
        figure = figures[name]
        assert set(figure) >= {"name", "value", "unit", "peer", "ratio"}, figure
        assert isinstance(figure["value"], int | float) and math.isfinite(figure["value"]), figure
        assert figure["value"] > 0 and figure["unit"], figure
        if has_peer:
            assert figure["peer"] and math.isfinite(figure["ratio"]) and figure["ratio"] > 0, figure
    # The printed table names every figure too.
    assert all(name in result.stdout for name in FIGURES)
