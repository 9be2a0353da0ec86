"""What the attack suites (tests/ops/test_attack_*.py) share: cheap large OTLP bodies and /proc readings."""

from __future__ import annotations

import json
from pathlib import Path

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1 import metrics_pb2

PROTOBUF = {"Content-Type": "application/x-protobuf"}
MIB = 1024 * 1024


def big_request(points: int, name: str = "attack.load") -> bytes:
    """One ExportMetricsServiceRequest with `points` gauge points of one metric, built in C speed.

    Serialized protobuf messages concatenate into their merge, so one point's Gauge bytes repeated n
    times parse as a Gauge of n points: no Python loop over the points on either side.
    """
    one = metrics_pb2.Gauge()
    one.data_points.add(time_unix_nano=1_700_000_000_000_000_000, as_double=1.5)
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add(name=name)
    metric.gauge.ParseFromString(one.SerializeToString() * points)
    return request.SerializeToString()


def proc_status(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status (VmHWM is the peak resident set size), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def nofile_limits(pid: int) -> tuple[int, int]:
    """(soft, hard) RLIMIT_NOFILE of a running process, from /proc/PID/limits."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise KeyError("Max open files")


def open_descriptors(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def points_written(path: Path) -> int:
    """Data points in the complete lines of a file exporter's output (without building a Point for each)."""
    if not path.exists():
        return 0
    text = path.read_text(encoding="utf-8")
    total = 0
    for line in text[: text.rfind("\n") + 1].splitlines():
        for rm in json.loads(line).get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                total += sum(len(m.get("gauge", {}).get("dataPoints", [])) for m in sm.get("metrics", []))
    return total
