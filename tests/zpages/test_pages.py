"""Unit tests of the zpages extension's logic: the host's scrape-target table, the connector view and its
bounds, redaction, rendering and escaping (checked with a real HTML parser)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from opentelemetry.sdk.metrics.export import MetricsData
from pydantic import SecretStr

from collector.component import ConfigModel, Kind, ReceiverOutputObserver, ScrapeTargets, redacted_config
from collector.config import load
from collector.pipeline import ObservedReceiverOutput
from collector.registry import Registry
from collector.telemetry import Telemetry
from collector.testing import RecordingConsumer
from extensions.zpages import ZPagesConfig, render
from extensions.zpages.connectors import HISTORY_POINTS, HISTORY_S, SPARK_COLUMNS, ConnectorTracker
from extensions.zpages.extension import targetz_data
from tests.support import REPO
from tests.zpages.data import assert_targetz_matches, debezium_batch, parse_html

MARKUP = "<img src=x onerror=alert(1)>\"'&"
T0 = 1_800_000_000.0


def header(now: float) -> dict[str, float]:
    return {"generated_at": now, "refresh_s": 10}


# The host's scrape-target table -------------------------------------------------------------------------
def test_targets_reported_by_a_receiver_and_gone_ones_removed() -> None:
    table = ScrapeTargets()
    for name in ("a:1", "b:2"):
        table.record("jmx/x", name, {"server.address": name}, up=True, detail="", started=T0, duration_s=0.1, points=5)
    table.scrape_done("jmx/x", started=T0, duration_s=0.2, points=10)
    assert sorted(t.name for t in table.all()) == ["a:1", "b:2"]

    # next scrape: b is down (dropping 2 NaN points), a is gone from discovery
    table.record(
        "jmx/x", "b:2", {}, up=False, detail="refused", started=T0 + 60, duration_s=0.1, points=1, errors={"nan": 2}
    )
    table.scrape_done("jmx/x", started=T0 + 60, duration_s=0.2, points=1, degraded="1 of 1 targets unreachable")
    [b] = table.all()
    assert (b.name, b.up, b.since, b.detail, b.points) == ("b:2", False, T0 + 60, "refused", 1)
    assert b.errors == {"nan": 2, "unreachable": 1}


def test_a_receiver_that_names_no_target_is_its_own_target_and_failures_count() -> None:
    table = ScrapeTargets()
    table.scrape_done("static", started=T0, duration_s=0.01, points=3)
    table.scrape_done("static", started=T0 + 1, duration_s=0.01, points=3)
    [target] = table.all()
    assert (target.name, target.up, target.since, target.points, target.errors) == ("static", True, T0, 3, {})
    table.scrape_done("static", started=T0 + 2, duration_s=5, points=0, error="TimeoutError")
    assert (target.up, target.since, target.detail, target.points) == (False, T0 + 2, "TimeoutError", 0)
    table.scrape_done("static", started=T0 + 3, duration_s=0.01, points=2, degraded="target unreachable")
    assert (target.up, target.since, target.detail, target.points) == (False, T0 + 2, "target unreachable", 2)
    assert target.errors == {"scrape_failed": 1, "target_down": 1}


def test_a_failed_scrape_marks_the_targets_that_did_not_answer_down_and_removes_none() -> None:
    table = ScrapeTargets()
    for name in ("a:1", "b:2"):
        table.record("jmx/x", name, {}, up=True, detail="", started=T0, duration_s=0.1, points=5)
    table.scrape_done("jmx/x", started=T0, duration_s=0.1, points=10)
    # a answers, then the scrape times out before b does
    table.record("jmx/x", "a:1", {}, up=True, detail="", started=T0 + 60, duration_s=0.1, points=5)
    table.scrape_done("jmx/x", started=T0 + 60, duration_s=9, points=0, error="TimeoutError")
    a, b = sorted(table.all(), key=lambda t: t.name)
    assert (a.up, a.errors) == (True, {})
    assert (b.up, b.since, b.detail, b.errors) == (False, T0 + 60, "TimeoutError", {"scrape_failed": 1})
    # the whole scrape fails before anyone answers (a gateway error): both missed it
    table.scrape_done("jmx/x", started=T0 + 120, duration_s=9, points=0, error="GatewayError")
    assert [(t.up, t.detail, t.errors.get("scrape_failed")) for t in (a, b)] == [
        (False, "GatewayError", 1),
        (False, "GatewayError", 2),
    ]
    assert ("jmx/x", "jmx/x") not in {(t.receiver, t.name) for t in table.all()}


# Redaction -------------------------------------------------------------------------------------------------
class Nested(ConfigModel):
    headers: dict[str, SecretStr] = {}
    authorization: str = ""


class Sample(ConfigModel):
    endpoint: str = "localhost:1"
    password: SecretStr = SecretStr("")
    auth_token: str = ""
    region: str = "eu-west-1"
    comment: str = ""
    nested: Nested = Nested()
    count: int = 3


def test_redaction_hides_every_credential_and_keeps_the_rest() -> None:
    secrets = ["hunter2", "tok-123", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Bearer abc"]
    config = Sample(
        password=SecretStr(secrets[0]),
        auth_token=secrets[1],
        comment=f"key {secrets[2]} secret {secrets[3]}",
        nested=Nested(headers={"X-Api": SecretStr("x1")}, authorization=secrets[4]),
    )
    shown = redacted_config(config)
    text = repr(shown)
    assert not any(s in text for s in [*secrets, "x1"]), text
    assert shown["endpoint"] == "localhost:1" and shown["region"] == "eu-west-1" and shown["count"] == 3
    assert shown["password"] == shown["auth_token"] == shown["comment"] == "[redacted]"
    assert shown["nested"]["authorization"] == "[redacted]"
    assert Sample().model_dump()["password"] == SecretStr("")  # the real config is untouched
    assert redacted_config(Sample())["password"] == ""  # nothing set: nothing to hide, shown as empty


# Connector view -------------------------------------------------------------------------------------------
def test_connector_state_from_debezium_points() -> None:
    tracker = ConnectorTracker()
    tracker.observe(
        "jmx/a",
        debezium_batch(
            "sales",
            T0,
            lag_ms=250,
            events=100,
            connected=True,
            snapshot="completed",
            tables=(4, 0),
            schema_history="running",
        ),
    )
    tracker.observe("jmx/a", debezium_batch("sales", T0 + 10, lag_ms=900, events=160, connected=False))
    [(source, [connector])] = list(tracker.sources())
    assert source == ("jmx/a", ())
    assert connector.lag_ms == 900 and connector.events_per_s == 6.0 and connector.connected is False
    assert connector.snapshot_state == "completed" and (connector.tables_total, connector.tables_remaining) == (4, 0)
    assert connector.schema_history == "running"
    tracker.observe("jmx/a", debezium_batch("sales", T0 + 15, lag_ms=float("nan")))
    assert connector.lag_ms == 900  # a NaN reading is no reading (and the JSON stays valid)
    # a restarted connector counts from zero: no negative rate
    tracker.observe("jmx/a", debezium_batch("sales", T0 + 20, events=5))
    assert connector.events_per_s is None


def test_custom_metric_tags_make_distinct_connectors_and_resources_distinct_sources() -> None:
    tracker = ConnectorTracker()
    tracker.observe("jmx/a", debezium_batch("sales", T0, lag_ms=1, env="prod"))
    tracker.observe("jmx/a", debezium_batch("sales", T0, lag_ms=2, env="test"))
    tracker.observe("jmx/a", debezium_batch("sales", T0, lag_ms=3, resource={"server.address": "w2"}))
    sources = dict(tracker.sources())
    assert [c.lag_ms for c in sources[("jmx/a", ())]] == [1, 2]
    assert [c.lag_ms for c in sources[("jmx/a", (("server.address", "w2"),))]] == [3]


def test_history_ring_connector_count_and_age_are_bounded() -> None:
    tracker = ConnectorTracker(max_connectors=3)
    for i in range(HISTORY_POINTS + 50):
        tracker.observe("jmx/a", debezium_batch("sales", T0 + i, lag_ms=i))
    [(_, [connector])] = list(tracker.sources())
    assert len(connector.lag) == HISTORY_POINTS and connector.lag[0][1] == 50
    now = T0 + HISTORY_S + 669
    assert connector.lag_history(now)[0] == (T0 + 669, 669)  # only the last hour
    buckets = connector.lag_sparkline(now)
    assert len(buckets) <= SPARK_COLUMNS + 1 and buckets[-1][1] == HISTORY_POINTS + 49  # each bucket's highest
    for i in range(5):  # more connectors than allowed: the least recently seen go
        tracker.observe("jmx/a", debezium_batch(f"s{i}", T0 + 10_000 + i, lag_ms=i))
    assert len(tracker) == 3
    assert sorted(c.server for _, group in tracker.sources() for c in group) == ["s2", "s3", "s4"]
    tracker.expire(T0 + 10_004 + HISTORY_S + 1)
    assert len(tracker) == 0 and not list(tracker.sources())


# Rendering ---------------------------------------------------------------------------------------------
def hostile_page() -> tuple[str, dict]:
    table = ScrapeTargets()
    table.record(
        "jmx/w",
        MARKUP,
        {"env": MARKUP},
        up=False,
        detail=MARKUP,
        started=T0,
        duration_s=0.5,
        points=7,
        errors={MARKUP: 1},
    )
    table.record("jmx/w", "ok:1", {}, up=True, detail="", started=T0, duration_s=0.25, points=9)
    tracker = ConnectorTracker()
    for i in range(100):
        tracker.observe(
            "jmx/w",
            debezium_batch(
                MARKUP,
                T0 - 3000 + 30 * i,
                lag_ms=100 + i,
                events=10 * i,
                connected=True,
                snapshot="running",
                tables=(5, 2),
                schema_history="recovering",
                resource={"env": MARKUP},
                tag=MARKUP,
            ),
        )
    tracker.observe("otlp", debezium_batch("pushed", T0, lag_ms=5))
    data = targetz_data(table.all(), tracker, header(T0))
    html_text = render.page("targetz", "Targets", 10, T0, render.targetz(data))
    return html_text, data


def test_target_derived_strings_are_text_never_markup() -> None:
    html_text, data = hostile_page()
    root = parse_html(html_text)
    assert not root.find_all("img") and not root.find_all("script")
    assert "<img" not in html_text and MARKUP not in html_text  # only its escaped form is there
    names = [e.all_text() for e in root.find_all("strong", "name")]
    assert MARKUP in names
    assert root.find_all("strong", "server")[0].all_text() == MARKUP
    assert all(e.attrs.keys() <= {"class", "href", "value", "datetime", "colspan"} for e in root.find_all("span"))
    tags = [e.all_text() for e in root.find_all("span", "tag")]
    assert f"env={MARKUP}" in tags and f"tag={MARKUP}" in tags and f"{MARKUP}: 1" in tags
    assert_targetz_matches(root, data)


def test_targetz_json_and_page_agree_and_rows_are_in_order() -> None:
    _, data = hostile_page()
    targets = data["targets"]
    assert [(t["name"], t["up"], t["scraped"]) for t in targets] == [
        (MARKUP, False, True),
        ("ok:1", True, True),
        ("otlp", None, False),
    ]
    [connector] = targets[0]["connectors"]
    assert connector["lag_ms"] == 199 and connector["connected"] is True
    assert connector["events_per_s"] == round(10 / 30, 3)
    assert connector["snapshot"] == {"state": "running", "tables_total": 5, "tables_remaining": 2}
    assert connector["schema_history"] == "recovering"
    assert len(connector["lag_history"]) == 100 and connector["lag_history"][-1][1] == 199
    assert targets[2]["connectors"][0]["server"] == "pushed"


def test_sparkline_is_bounded_and_keeps_spikes() -> None:
    points = [(T0 - 3600 + i * 5, 10.0) for i in range(HISTORY_POINTS)]
    points[300] = (points[300][0], 5000.0)
    svg = parse_html(render.sparkline(points, T0, HISTORY_S)).find_all("svg")[0]
    [line] = svg.find_all("polyline")
    coords = [tuple(map(float, pair.split(","))) for pair in line.attrs["points"].split()]
    assert len(coords) <= render.SPARK_W
    assert all(0 <= x < render.SPARK_W and 0 <= y <= render.SPARK_H for x, y in coords)
    assert min(y for _, y in coords) == render.SPARK_H - 1 - (render.SPARK_H - 2)  # the spike is the top
    assert "max 5,000 ms" in svg.attrs["aria-label"]
    [now] = svg.find_all("circle")
    assert (float(now.attrs["cx"]), float(now.attrs["cy"])) == coords[-1]  # the latest reading, marked


def test_page_is_self_contained_under_its_policy() -> None:
    html_text, _ = hostile_page()
    root = parse_html(html_text)
    assert not root.find_all("script") and not root.find_all("img")
    assert all(link.attrs["href"] == "data:," for link in root.find_all("link"))
    links = [a.attrs["href"] for a in root.find_all("a")]
    assert all(h.startswith("/debug/") or h == "?format=json" for h in links), links
    [style] = root.find_all("style")
    digest = base64.b64encode(hashlib.sha256(style.all_text().encode()).digest()).decode()
    assert f"'sha256-{digest}'" in render.CSP and "default-src 'none'" in render.CSP
    assert "refresh" in [m.attrs.get("http-equiv") for m in root.find_all("meta")]


def test_readme_sample_is_valid_and_shows_the_defaults() -> None:
    folder = REPO / "extensions" / "zpages"
    config = load([folder / "testdata" / "config.yaml"], Registry.discover(), {})
    assert config.component(Kind.EXTENSION, "zpages").config == ZPagesConfig()
    assert ZPagesConfig().endpoint == "localhost:55679"  # the Collector's default
    sample = (folder / "testdata" / "config.yaml").read_text().split("extensions:\n")[1].split("service:")[0]
    assert sample in (folder / "README.md").read_text()


class Broken(ReceiverOutputObserver):
    calls = 0

    def observe_receiver_output(self, receiver_id: str, data: MetricsData) -> None:
        self.calls += 1
        raise RuntimeError("observer bug")


async def test_an_observer_that_raises_never_costs_a_point(caplog: pytest.LogCaptureFixture) -> None:
    telemetry, downstream, broken, tracker = Telemetry(), RecordingConsumer(), Broken(), ConnectorTracker()

    class Tracking(ReceiverOutputObserver):
        def observe_receiver_output(self, receiver_id: str, data: MetricsData) -> None:
            tracker.observe(receiver_id, data)

    output = ObservedReceiverOutput("jmx/a", downstream, telemetry, observers=[broken, Tracking()])
    for i in range(3):
        await output.consume(debezium_batch("sales", T0 + i, lag_ms=i))
    assert len(downstream.batches) == 3 and broken.calls == 3
    assert telemetry.value("otelcol_receiver_accepted_metric_points", receiver="jmx/a") == 3
    assert [c.lag_ms for _, group in tracker.sources() for c in group] == [2]  # the next observer still saw all
    assert caplog.text.count("receiver output observer failed") == 1
