"""Bad input in the data: unicode, empty and very long names and attribute values, NaN and ±Inf, ints
beyond 64 bits. Pushed through a real pipeline (every stock processor kind that reshapes data, and the
file, awsemf, prometheus and debug exporters): nothing crashes, every point is delivered or counted."""

import asyncio
import math
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.config import validate
from collector.metrics import count_points
from collector.pipeline import Service
from collector.registry import Registry
from collector.testing import MetricsData, gauge, metrics_data, number_point, sum_metric
from collector.validity import drop_invalid_names
from tests.core.fakes import PushConfig, PushReceiver
from tests.support import read_points

names = st.one_of(
    st.text(min_size=0, max_size=40),
    st.sampled_from(["", " ", "é.ü.名前", "a" * 3000, "debezium.streaming.MilliSecondsBehindSource", "1st", "a/b\\c"]),
)
values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([math.nan, math.inf, -math.inf, 0, -1]),
)
attributes = st.dictionaries(
    names, st.one_of(names, st.integers(-(2**63), 2**63 - 1), st.booleans(), st.floats(allow_nan=True)), max_size=4
)


@st.composite
def batches(draw) -> MetricsData:
    now = time.time_ns()
    metrics = []
    for _ in range(draw(st.integers(1, 5))):
        name = draw(names)
        count = draw(st.integers(1, 3))
        points = [number_point(draw(values), draw(attributes), start=now - 10**9, time=now) for _ in range(count)]
        unit = draw(st.sampled_from(["", "ms", "By", "é", "{x}"]))
        if draw(st.booleans()):
            metrics.append(gauge(name, *points, unit=unit))
        else:
            metrics.append(sum_metric(name, *points, monotonic=draw(st.booleans()), unit=unit))
    return metrics_data(*metrics, resource=draw(attributes), scope=draw(names) or "s")


def config(tmp_path) -> dict:
    return {
        "receivers": {"push": {}},
        "processors": {
            "rename": {"rules": [{"include": "^(.*)\\.(.*)$", "match_type": "regexp", "new_name": "x.${2}"}]},
            "rescale": {"rules": [{"include": ".*", "match_type": "regexp", "from_unit": "ms", "to_unit": "s"}]},
            "attributes": {
                "actions": [
                    {"key": "server", "action": "upsert", "value": "é" * 2000},
                    {"key": "k", "action": "delete"},
                ]
            },
            "cumulativetodelta": {},
        },
        "exporters": {
            "file": {"path": str(tmp_path / "out.jsonl")},
            "awsemf": {
                "output_destination": "file",
                "file_path": str(tmp_path / "emf.jsonl"),
                "metric_declarations": [{"dimensions": [["server"]], "metric_name_selectors": [".*"]}],
            },
            "prometheus": {"endpoint": "127.0.0.1:0"},
            "debug": {"verbosity": "detailed"},
        },
        "service": {
            "telemetry": {"metrics": {"level": "none"}},
            "pipelines": {
                "metrics": {
                    "receivers": ["push"],
                    "processors": ["rename", "rescale", "attributes", "cumulativetodelta"],
                    "exporters": ["file", "awsemf", "prometheus", "debug"],
                }
            },
        },
    }


def registry() -> Registry:
    from collector.component import Factory, Kind

    discovered = Registry.discover()
    discovered.add(Factory("push", Kind.RECEIVER, PushConfig, PushReceiver), "tests")
    return discovered


REGISTRY = registry()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(st.lists(batches(), min_size=1, max_size=3))
def test_odd_points_never_crash_and_are_delivered_or_counted(tmp_path_factory, data):
    tmp_path = tmp_path_factory.mktemp("bad")

    async def run() -> Service:
        PushReceiver.instances.clear()
        svc = Service(validate(config(tmp_path), REGISTRY))
        await svc.start()
        for batch in data:
            await PushReceiver.instances[-1].push(batch)
        await svc.shutdown()
        return svc

    svc = asyncio.run(run())
    t = svc.telemetry
    assert t.total("otelcol_exporter_send_failed_metric_points") == 0, "an exporter choked on a point"
    assert t.total("otelcol_receiver_refused_metric_points") == 0
    # whatever the processors let through reached the file exporter, point for point
    assert len(read_points(tmp_path / "out.jsonl")) == t.value("otelcol_exporter_sent_metric_points", exporter="file")
    pushed = sum(count_points(b) for b in data)
    # metrics whose names no exporter can write are dropped where they enter, and counted there
    bad_names = sum(sum(drop_invalid_names(b)[1].values()) for b in data)
    dropped = sum(
        t.value("collector_dropped_metric_points", component="push", reason=reason)
        for reason in ("empty_name", "name_not_utf8", "name_control_character", "name_too_long")
    )
    assert dropped == bad_names
    assert t.value("otelcol_receiver_accepted_metric_points", receiver="push") == pushed - bad_names
