"""What the shipped otel-config.yaml costs per connector, computed from what its pipeline emits.

The figures in exporters/awsemf/README.md ("Cost") must equal what this test computes, so the docs
cannot drift from the code or from the shipped config's processors and curated declarations.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from collector.component import Kind
from collector.config import expand_env, load
from collector.registry import Registry
from collector.testing import (
    START_NS,
    Metric,
    NopHost,
    RecordingConsumer,
    create,
    create_settings,
    gauge,
    metrics_data,
    number_point,
    sum_metric,
)
from exporters.awsemf import factory
from exporters.awsemf.cost import custom_metrics
from tests.awsexporters.emf_rules import check_document

REPO = Path(__file__).resolve().parents[2]
HERE = REPO / "exporters" / "awsemf"
SHIPPED = REPO / "otel-config.yaml"
SCRAPES_PER_MONTH = 30 * 24 * 60  # 60 s collection interval, 30-day month
TABLES = 10  # tables captured by the example connector (per-table counters are one point each)
LABELS = {"server": "inventory", "plugin": "mysql"}

# One scrape of the JMX preset `debezium-mysql` (receivers/jmx/presets/debezium-mysql.yaml): name -> unit.
COMMON_COUNTERS = [
    "TotalNumberOfEventsSeen",
    "TotalNumberOfCreateEventsSeen",
    "TotalNumberOfUpdateEventsSeen",
    "TotalNumberOfDeleteEventsSeen",
    "NumberOfEventsFiltered",
    "NumberOfErroneousEvents",
]
COMMON_GAUGES = {
    "MilliSecondsSinceLastEvent": "ms",
    "QueueTotalCapacity": "{event}",
    "QueueRemainingCapacity": "{event}",
    "CurrentQueueSizeInBytes": "By",
    "MaxQueueSizeInBytes": "By",
    "CapturedTables": "{table}",
}
SNAPSHOT_GAUGES = {
    "TotalTableCount": "{table}",
    "RemainingTableCount": "{table}",
    "SnapshotRunning": "1",
    "SnapshotPaused": "1",
    "SnapshotCompleted": "1",
    "SnapshotAborted": "1",
    "SnapshotSkipped": "1",
    "SnapshotDurationInSeconds": "s",
    "SnapshotPausedDurationInSeconds": "s",
}
STREAMING_GAUGES = {
    "Connected": "1",
    "MilliSecondsBehindSource": "ms",
    "MilliSecondsBehindSourceMinValue": "ms",
    "MilliSecondsBehindSourceMaxValue": "ms",
    "MilliSecondsBehindSourceAverageValue": "ms",
    "MilliSecondsBehindSourceP50": "ms",
    "MilliSecondsBehindSourceP95": "ms",
    "MilliSecondsBehindSourceP99": "ms",
    "IsGtidModeEnabled": "1",
    "BinlogPosition": "By",
}
STREAMING_COUNTERS = [
    "NumberOfCommittedTransactions",
    "NumberOfRolledBackTransactions",
    "NumberOfNotWellFormedTransactions",
    "NumberOfLargeTransactions",
    "NumberOfSkippedEvents",
    "NumberOfDisconnects",
    "NumberOfUnchangedEventsSkipped",
]
PER_TABLE_COUNTERS = {
    "snapshot": ["RowsScanned"],
    "streaming": ["NumberOfCreateEventsSeen", "NumberOfUpdateEventsSeen", "NumberOfDeleteEventsSeen"],
}
SCHEMA_HISTORY = {
    "ChangesRecovered": None,
    "ChangesApplied": None,
    "RecoveryStartTime": "ms",
    "MilliSecondsSinceLastAppliedChange": "ms",
    "MilliSecondsSinceLastRecoveredChange": "ms",
}


def scrape(step: int, t: int):
    """One realistic scrape; counters grow between scrapes, gauges hold typical magnitudes."""

    def g(name: str, value: float, unit: str, **extra: str) -> Metric:
        return gauge(name, value, attributes={**LABELS, **extra}, time=t, unit=unit)

    def c(name: str, value: int, unit: str, points: list[dict[str, str]] | None = None) -> Metric:
        pts = [number_point(value, {**LABELS, **p}, start=START_NS, time=t) for p in points or [{}]]
        return sum_metric(name, *pts, unit=unit)

    tables = [{"table": f"inventory.table_{i:02d}"} for i in range(TABLES)]
    metrics = []
    for context in ("snapshot", "streaming"):
        prefix = f"debezium.{context}."
        metrics += [c(prefix + n, 1_000_000 + step * 1234, "{event}") for n in COMMON_COUNTERS]
        metrics += [g(prefix + n, 8192 - step, u) for n, u in COMMON_GAUGES.items()]
        metrics += [c(prefix + n, 50_000 + step * 97, "{row}", tables) for n in PER_TABLE_COUNTERS[context]]
    metrics += [g("debezium.snapshot." + n, 1, u) for n, u in SNAPSHOT_GAUGES.items()]
    metrics += [g("debezium.streaming." + n, 1250 + step, u) for n, u in STREAMING_GAUGES.items()]
    metrics += [c("debezium.streaming." + n, 100 + step, "{transaction}") for n in STREAMING_COUNTERS]
    for n, unit in SCHEMA_HISTORY.items():
        name = "debezium.schema_history." + n
        metrics.append(c(name, 20 + step, "{change}") if unit is None else g(name, 30_000, unit))
    metrics += [
        g("debezium.schema_history.Status", 1 if state == "running" else 0, "1", state=state)
        for state in ("running", "recovering", "stopped", "unknown")
    ]
    return metrics_data(*metrics)


def curated_config() -> dict:
    raw = expand_env(yaml.safe_load(SHIPPED.read_text()), {})
    config = dict(raw["exporters"]["awsemf"])
    for key in ("region", "sending_queue", "log_retention"):
        config.pop(key, None)
    return {**config, "output_destination": "stdout"}


async def through_shipped_processors(data):
    """The shipped pipeline's processors, in order, as the collector builds them."""
    config = load([SHIPPED], Registry.discover(), {})
    pipeline = config.service.pipelines["metrics"]
    for processor_id in pipeline.processors:
        spec = config.component(Kind.PROCESSOR, processor_id)
        capture = RecordingConsumer()
        await spec.factory.create(create_settings(Kind.PROCESSOR, processor_id), spec.config, capture).consume(data)
        (data,) = capture.batches
    return data


async def steady_state_lines(capsys, **overrides: object) -> list[str]:
    """The EMF lines of one steady-state scrape through the shipped pipeline (with exporter overrides)."""
    exporter = create(factory, {**curated_config(), **overrides})
    await exporter.start(NopHost())
    capsys.readouterr()
    minute = 60 * 10**9
    for step in (0, 1):  # the first scrape primes the delta tracker; the second is steady state
        capsys.readouterr()
        data = await through_shipped_processors(scrape(step, START_NS + (step + 1) * minute))
        await exporter.export(exporter.prepare(data))
    return capsys.readouterr().out.splitlines()


async def compute_cost_documents(capsys) -> list[dict]:
    return [check_document(line) for line in await steady_state_lines(capsys)]


async def compute_cost(capsys, **overrides: object) -> dict[str, int]:
    lines = await steady_state_lines(capsys, **overrides)
    scrape_bytes = sum(len(line.encode()) + 26 for line in lines)
    return {
        "custom_metrics": len(custom_metrics(check_document(line) for line in lines)),
        "events_per_scrape": len(lines),
        "bytes_per_scrape": scrape_bytes,
        "monthly_bytes": scrape_bytes * SCRAPES_PER_MONTH,
    }


async def test_curated_declarations_cost_matches_the_readme(capsys) -> None:
    cost = await compute_cost(capsys)
    assert cost["custom_metrics"] == 12  # the reference metric + 4 streaming + 3 snapshot + 4 schema-history
    # For comparison: no declarations with the Collector's default rollup makes everything a metric.
    everything = await compute_cost(
        capsys, metric_declarations=[], dimension_rollup_option="ZeroAndSingleDimensionRollup"
    )
    cost["custom_metrics_without_declarations"] = everything["custom_metrics"]
    readme = (HERE / "README.md").read_text()
    documented = re.search(r"<!-- cost: (\{.*?\}) -->", readme)
    assert documented, "README.md must carry the computed cost figures"
    assert json.loads(documented.group(1)) == cost, f"update README.md with {json.dumps(cost)}"
    mib = cost["monthly_bytes"] / 2**20
    assert f"{cost['custom_metrics']} custom metrics" in readme
    assert f"{mib:.0f} MiB" in readme
