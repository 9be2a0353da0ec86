"""A fleet of RMI targets read by one real collector process: one `jmx` receiver with `endpoints` listing N
Debezium-shaped targets (the `debezium-mysql` preset; FleetTarget serves them on N RMI ports of one JVM,
which is not counted), all read through the collector's one gateway JVM.

Figures, for N = 50 (and 10 and 200 in a full run, the growth table of docs/performance.md):
- `fleet_N_rss_mib`: RSS of the collector plus its gateway JVM(s) at steady state, and per target;
- `fleet_N_scrape_ms`: mean wall time of one scrape of all N targets (the receiver's scrape duration);
- `fleet_cpu_ms_per_target_scrape`: collector + gateway CPU per target scrape (N = 50).

The pipeline exports to `prometheus` (pull, never scraped here): the figures are the reading's cost.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.bench_collector import _cpu_seconds
from benchmarks.bench_jmx import rss_mib
from benchmarks.figures import Figure
from tests.jmx import testbed
from tests.support import free_port, own_metric, run_collector, wait_for, write_config

SIZES_FULL = (10, 50, 200)
NAMED = 50  # the size of the named figures, in --quick too
INTERVAL_S = 2.0
# Steady state: the gateway JVM's C1 JIT keeps compiling its read path over the first ~30 s of scrapes
# (about 0.2 ms per target scrape more in the first 10 s); that start-up cost is not the per-scrape cost.
WARM_SCRAPES = 15
# The gateway resolves every target's MBean names again every 30 scrapes: the full run measures one whole
# such cycle, so its figure carries that cost in proportion; the quick one measures a window without it.
MEASURED_FULL = 30
MEASURED_QUICK = 10
FIGURES = (
    *(f"fleet_{size}_{what}" for size in SIZES_FULL for what in ("rss_mib", "rss_per_target_mib", "scrape_ms")),
    "fleet_cpu_ms_per_target_scrape",
)
RECEIVER = "jmx/fleet"


def _config(directory: Path, ports: list[int], telemetry_port: int) -> Path:
    prometheus_port = free_port()
    while prometheus_port == telemetry_port:
        prometheus_port = free_port()
    return write_config(
        directory,
        {
            "receivers": {
                RECEIVER: {
                    "endpoints": {"list": [f"127.0.0.1:{port}" for port in ports], "protocol": "rmi"},
                    "target_system": "debezium-mysql",
                    "collection_interval": f"{int(INTERVAL_S * 1000)}ms",
                    "initial_delay": "0s",
                }
            },
            "exporters": {"prometheus": {"endpoint": f"127.0.0.1:{prometheus_port}"}},
            "service": {
                "telemetry": {"metrics": {"address": f"127.0.0.1:{telemetry_port}"}},
                "pipelines": {"metrics": {"receivers": [RECEIVER], "exporters": ["prometheus"]}},
            },
        },
    )


def measure(size: int, measured_scrapes: int) -> tuple[float, float, float]:
    """(RSS MiB of collector + gateways, mean scrape ms, CPU ms per target scrape) with `size` targets."""
    port = free_port()
    count = f'collector_scraper_scrape_duration_seconds_count{{receiver="{RECEIVER}"}}'
    total = f'collector_scraper_scrape_duration_seconds_sum{{receiver="{RECEIVER}"}}'
    with (
        testbed.fleet_target(size) as (_, ports),
        tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp,
        run_collector(_config(Path(tmp), ports, port), free_telemetry_port=False) as collector,
    ):
        pid = collector.process.pid

        def scrapes() -> float:
            if collector.process.poll() is not None:
                raise AssertionError(f"the collector exited:\n{collector.logs()[-3000:]}")
            try:
                return own_metric(port, count)
            except (OSError, AssertionError):  # not listening yet, or no scrape finished yet
                return 0

        up = f'collector_scraper_target_up{{receiver="{RECEIVER}"}}'
        wait_for(lambda: scrapes() and own_metric(port, up) == 1, 60 + size, "every target connected")
        warm = scrapes() + WARM_SCRAPES
        wait_for(lambda: scrapes() >= warm, 60 + size, "warm-up scrapes")
        gateways = testbed.gateway_pids(pid)
        processes = [pid, *gateways]
        count0, sum0 = own_metric(port, count), own_metric(port, total)
        cpu0 = sum(map(_cpu_seconds, processes))
        wanted = count0 + measured_scrapes
        # Every poll renders the collector's own metrics page: collector CPU this figure would count (at a
        # 0.1 s poll it was a third of the collector's share). So the window is slept through, then polled
        # only near its end.
        time.sleep((measured_scrapes - 1) * INTERVAL_S)
        deadline = measured_scrapes * INTERVAL_S * 2 + 30
        wait_for(lambda: scrapes() >= wanted, deadline, "measured scrapes", interval=INTERVAL_S / 8)
        cpu1 = sum(map(_cpu_seconds, processes))
        count1, sum1 = own_metric(port, count), own_metric(port, total)
        rss = sum(map(rss_mib, processes))
        assert own_metric(port, up) == 1, f"some targets went down:\n{collector.logs()[-2000:]}"
    scraped = count1 - count0
    return rss, (sum1 - sum0) / scraped * 1000, (cpu1 - cpu0) * 1000 / (scraped * size)


def run(quick: bool) -> list[Figure]:
    figures = []
    for size in (NAMED,) if quick else SIZES_FULL:
        rss, scrape_ms, cpu_ms = measure(size, measured_scrapes=MEASURED_QUICK if quick else MEASURED_FULL)
        named = size == NAMED
        figures += [
            Figure(f"fleet_{size}_rss_mib", rss, "MiB", target="<= 200" if named else None),
            Figure(f"fleet_{size}_rss_per_target_mib", rss / size, "MiB"),
            Figure(f"fleet_{size}_scrape_ms", scrape_ms, "ms", target="<= 500" if named else None),
        ]
        if named:
            figures.append(Figure("fleet_cpu_ms_per_target_scrape", cpu_ms, "ms", target="<= 2"))
    return figures
