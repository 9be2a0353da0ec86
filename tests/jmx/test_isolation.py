"""Isolation of JMX scrapes (issue 18): a target with a getter that never returns and a 64 MB string where a
number is expected, read by a real collector beside an unrelated pipeline (a second jmx receiver reading
another JVM into its own file exporter). The hostile MBeans cost only their own points, counted under
`otelcol_scraper_errored_metric_points` with a reason; `jmx.up` stays 1; the other pipeline's batches
keep their cadence."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics.export import NumberDataPoint

from collector.telemetry import Telemetry
from tests.jmx import testbed
from tests.jmx.conftest import make_receiver
from tests.support import free_port, own_metric, read_points, run_collector, wait_for, write_config

pytestmark = pytest.mark.integration
HOSTILE_RULES = [
    {"bean": "test.hostile:type=Hung", "mapping": {"Stuck": {"metric": "hostile.stuck"}}},
    {
        "bean": "test.hostile:type=Huge",
        "mapping": {"Blob": {"metric": "hostile.blob"}, "Size": {"metric": "hostile.size"}},
    },
    {"bean": "test.hostile:type=Fine", "mapping": {"Value": {"metric": "hostile.fine", "type": "counter"}}},
]
WATCH_S = 13.0


@pytest.fixture(scope="module")
def hostile_target() -> Iterator[testbed.JavaTarget]:
    with testbed.edge_case_target("--hostile") as target:
        yield target


def scrape_times(path: Path) -> list[int]:
    """The time of each scrape (one `jmx.up` point each) in the file, in order."""
    return [p.time for p in read_points(path) if p.name == "jmx.up"]


def test_a_hung_getter_and_a_huge_value_cost_only_their_own_points(
    hostile_target: testbed.JavaTarget, edge_target: testbed.JavaTarget, tmp_path: Path
) -> None:
    hostile_out, healthy_out, metrics_port = tmp_path / "hostile.jsonl", tmp_path / "healthy.jsonl", free_port()
    config = write_config(
        tmp_path,
        {
            "receivers": {
                "jmx/hostile": {
                    "endpoint": hostile_target.endpoint,
                    "rules": HOSTILE_RULES,
                    "collection_interval": "3s",
                    "initial_delay": "0s",
                },
                "jmx/healthy": {
                    "endpoint": edge_target.endpoint,
                    "target_system": "jvm",
                    "collection_interval": "1s",
                    "initial_delay": "0s",
                },
            },
            "exporters": {"file/hostile": {"path": str(hostile_out)}, "file/healthy": {"path": str(healthy_out)}},
            "service": {
                "telemetry": {"metrics": {"address": f"127.0.0.1:{metrics_port}"}},
                "pipelines": {
                    "metrics/hostile": {"receivers": ["jmx/hostile"], "exporters": ["file/hostile"]},
                    "metrics/healthy": {"receivers": ["jmx/healthy"], "exporters": ["file/healthy"]},
                },
            },
        },
    )
    with run_collector(config, free_telemetry_port=False) as collector:
        wait_for(lambda: len(scrape_times(healthy_out)) >= 2, 60, "the healthy pipeline's first batches")
        wait_for(lambda: len(scrape_times(hostile_out)) >= 2, 30, "the hostile receiver's first scrapes")
        started = time.time_ns()
        time.sleep(WATCH_S)
        errored = own_metric(
            metrics_port,
            'otelcol_scraper_errored_metric_points_total{reason="timeout",receiver="jmx/hostile",scraper="jmx"}',
        )
        collector.stop()
        logs = collector.logs()

    healthy = [t for t in scrape_times(healthy_out) if t >= started]
    gaps = [(b - a) / 1e9 for a, b in itertools.pairwise(healthy)]
    assert len(healthy) >= WATCH_S * 0.7, f"the unrelated pipeline delivered {len(healthy)} scrapes in {WATCH_S}s"
    assert max(gaps) < 2.5, f"the unrelated pipeline stalled: gaps {gaps}"

    points = [p for p in read_points(hostile_out) if p.time >= started]
    by_scrape: dict[int, set[str]] = {}
    for point in points:
        by_scrape.setdefault(point.time, set()).add(point.name)
    ups = [p.value for p in points if p.name == "jmx.up"]
    times = [(p.time - started) / 1e9 for p in points if p.name == "jmx.up"]
    assert len(ups) >= 4 and set(ups) == {1}, f"jmx.up of the hostile target: {ups} at {times}\n{logs[-3000:]}"
    assert all({"hostile.fine", "hostile.size"} <= names for names in by_scrape.values()), by_scrape
    assert not any({"hostile.stuck", "hostile.blob"} & names for names in by_scrape.values())
    assert errored >= len(ups), "every scrape counts the hung getter's point as errored (reason timeout)"
    # Once reached, the hostile target is never reported down (the first scrapes include the gateway's start).
    states = [line for line in logs.splitlines() if "component=jmx/hostile" in line and "target " in line]
    assert states and "target reachable" in states[-1] and len(states) <= 2, states
    assert "refused command" not in logs, logs[-2000:]


async def test_a_huge_string_a_rule_wants_costs_its_own_points_and_reads_as_itself(
    hostile_target: testbed.JavaTarget,
) -> None:
    """The 64 MB string wanted as a state: the gateway (64 MiB heap) runs out of memory receiving it. That is
    one attribute's error, counted with its reason; its MBean's other attribute, the other MBean and `jmx.up`
    are read as usual, and no py4j follow-up call ("refused command p") is ever made."""
    telemetry = Telemetry()
    state = {"metric": "hostile.blob.state", "type": "state", "metricAttribute": {"state": {"any": "*"}}}
    rules = [
        {"bean": "test.hostile:type=Huge", "mapping": {"Blob": state, "Size": {"metric": "hostile.size"}}},
        {"bean": "test.hostile:type=Fine", "mapping": {"Value": {"metric": "hostile.fine"}}},
    ]
    receiver = make_receiver(
        {"endpoint": hostile_target.endpoint, "rules": rules, "collection_interval": "60s", "timeout": "40s"},
        telemetry,
    )
    try:
        data = await receiver.scrape()
    finally:
        await receiver.shutdown()
    values = {
        m.name: point.value
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        if isinstance(point := m.data.data_points[0], NumberDataPoint)
    }
    assert set(values) == {"hostile.size", "hostile.fine", "jmx.up"}, values  # no state point: Blob unread
    assert values["hostile.size"] == 64 << 20 and values["hostile.fine"] >= 1 and values["jmx.up"] == 1
    errored = telemetry.value(
        "otelcol_scraper_errored_metric_points", receiver="jmx/test", scraper="jmx", reason="OutOfMemoryError"
    )
    assert errored == 1
