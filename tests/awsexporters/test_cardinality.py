"""The cardinality guard of both CloudWatch exporters against a real moto server: a label with 50
values under a cap of 10 creates 10 custom metrics; the rest are counted and logged once."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from collector.testing import NopHost, create, dropped_points, gauge, metrics_data
from common.aws.cardinality import SeriesGuard
from exporters.awscloudwatch import factory as cloudwatch_factory
from exporters.awsemf import factory as emf_factory
from tests.awsexporters.conftest import MotoServer
from tests.awsexporters.test_cloudwatch_putmetricdata import cw_config, read_back
from tests.awsexporters.test_emf_cloudwatch import emf_config, read_events

pytestmark = pytest.mark.integration

WARNING = "metric over max_series_per_metric"


def tables(count: int, value: float = 1.0) -> list:
    """`rows` for `count` tables (one label value each) and `lag`, one series only."""
    rows = [gauge("rows", value, attributes={"server": "inventory", "table": f"t{i:02d}"}) for i in range(count)]
    return [*rows, gauge("lag", value, attributes={"server": "inventory"})]


def overflow_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(WARNING)]


async def test_cloudwatch_sends_only_the_first_series(moto: MotoServer, caplog) -> None:
    config = cw_config(moto, max_series_per_metric=10)
    exporter = create(cloudwatch_factory, config)
    await exporter.start(NopHost())
    with caplog.at_level(logging.WARNING):
        await exporter.export(exporter.prepare(metrics_data(*tables(50, 1.0))))
        await exporter.export(exporter.prepare(metrics_data(*tables(50, 2.0))))
    namespace = config["namespace"]
    listed = moto.client("cloudwatch").list_metrics(Namespace=namespace, MetricName="rows")["Metrics"]
    # moto lists a metric once per datum; CloudWatch once per series: compare the distinct series.
    values = sorted({d["Value"] for m in listed for d in m["Dimensions"] if d["Name"] == "table"})
    assert values == [f"t{i:02d}" for i in range(10)]
    # Admitted series keep flowing (both scrapes), refused ones never reach CloudWatch.
    assert read_back(moto, namespace, "rows", {"server": "inventory", "table": "t09"}, "SampleCount") == [2]
    assert read_back(moto, namespace, "rows", {"server": "inventory", "table": "t10"}, "SampleCount") == []
    assert read_back(moto, namespace, "lag", {"server": "inventory"}, "SampleCount") == [2]
    assert dropped_points(exporter, "cardinality_limit") == 80
    [record] = overflow_warnings(caplog)
    assert record.metric == "rows" and record.max_series_per_metric == 10


async def test_emf_keeps_values_but_drops_the_directives_over_the_cap(moto: MotoServer, caplog) -> None:
    config = emf_config(moto, namespace=f"Test{uuid.uuid4().hex[:8]}", max_series_per_metric=10)
    exporter = create(emf_factory, config)
    await exporter.start(NopHost())
    with caplog.at_level(logging.WARNING):
        await exporter.export(exporter.prepare(metrics_data(*tables(50, 1.0))))
        await exporter.export(exporter.prepare(metrics_data(*tables(50, 2.0))))
    documents = [json.loads(e["message"]) for e in read_events(moto, config["log_group_name"], "collector")]
    rows = [d for d in documents if "rows" in d]
    assert len(rows) == 100  # every value stays searchable in the log events
    billed = {d["table"] for d in rows if any(m["Name"] == "rows" for c in d["_aws"]["CloudWatchMetrics"]
                                                for m in c["Metrics"])}  # fmt: skip
    assert billed == {f"t{i:02d}" for i in range(10)}
    assert sum(1 for d in rows if not d["_aws"]["CloudWatchMetrics"]) == 80
    lag = [d for d in documents if "lag" in d]
    assert len(lag) == 2 and all(d["_aws"]["CloudWatchMetrics"] for d in lag)
    assert dropped_points(exporter, "cardinality_limit") == 80
    [record] = overflow_warnings(caplog)
    assert record.metric == "rows"


async def test_zero_means_no_cap(moto: MotoServer) -> None:
    config = cw_config(moto, max_series_per_metric=0)
    exporter = create(cloudwatch_factory, config)
    await exporter.start(NopHost())
    await exporter.export(exporter.prepare(metrics_data(*tables(50))))
    listed = moto.client("cloudwatch").list_metrics(Namespace=config["namespace"], MetricName="rows")["Metrics"]
    assert len({str(m["Dimensions"]) for m in listed}) == 50
    assert dropped_points(exporter, "cardinality_limit") == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_series_not_seen_for_the_expiration_free_their_slot(caplog) -> None:
    clock = FakeClock()
    guard = SeriesGuard(2, logging.getLogger("test.guard"), expiration=3600.0, clock=clock)
    assert guard.admit("m", "a") and guard.admit("m", "b")
    with caplog.at_level(logging.WARNING):
        assert not guard.admit("m", "c")
        assert not guard.admit("m", "d")
    assert len(overflow_warnings(caplog)) == 1  # once per metric, not per refused point
    assert guard.admit("other", "c")  # the cap is per metric
    clock.now = 1800.0
    assert guard.admit("m", "a")  # seen again: stays
    clock.now = 3601.0
    assert guard.admit("m", "c")  # b expired, its slot is free
    assert not guard.admit("m", "d")
    assert guard.series_count("m") == 2


def test_names_admitted_per_label_set_keep_their_slots_while_seen() -> None:
    """admit_names (once per label set per batch): last-seen times are written at most once a minute,
    yet a pair seen every batch never expires and one no longer seen does."""
    clock = FakeClock()
    guard = SeriesGuard(5, logging.getLogger("test.guard"), expiration=3600.0, clock=clock)
    series = (("server",), ("s1",))
    assert guard.admit_names(series, {"lag", "events"}, guard.batch()) == set()
    for step in range(1, 500):  # every 15 s for two hours (sweeps are hourly), "events" no longer sent
        clock.now = step * 15.0
        assert guard.admit_names(series, {"lag"}, guard.batch()) == set()
    assert (guard.series_count("lag"), guard.series_count("events")) == (1, 0)
    full = SeriesGuard(1, logging.getLogger("test.guard"), clock=clock)
    assert full.admit_names(series, {"lag"}, full.batch()) == set()
    assert full.admit_names((("server",), ("s2",)), {"lag", "events"}, full.batch()) == {"lag"}


def test_negative_cap_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="max_series_per_metric"):
        cloudwatch_factory.config_model.model_validate({"namespace": "x", "max_series_per_metric": -1})
