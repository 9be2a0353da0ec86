"""jmx as the Collector's jmxreceiver: the `jvm` preset on a real JVM under both `target_source` values,
the legacy kafka broker/consumer/producer presets on a JVM registering Kafka-shaped MBeans, rule files
given with `jmx_configs`, and the `password_file` / `log_level` keys."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from collector.logs import ComponentLogger
from receivers.jmx.config import JmxConfig
from receivers.jmx.diagnostics import LevelLogger
from tests.jmx import testbed
from tests.jmx.conftest import scrape_points

pytestmark = pytest.mark.integration

LEGACY_JVM = {"jvm.memory.heap.used", "jvm.threads.count", "jvm.classes.loaded", "jvm.gc.collections.count"}
SEMCONV_JVM = {"jvm.memory.used", "jvm.thread.count", "jvm.class.count", "jvm.gc.count"}


async def scrape(endpoint: str, **config: object) -> dict:
    return await scrape_points({"endpoint": endpoint, **config})


def composite_item(text: str, item: str) -> int:
    match = re.search(rf"\b{item}=(-?\d+)", text)
    assert match, text
    return int(match.group(1))


async def test_jvm_preset_legacy_names_on_a_real_jvm(edge_target: testbed.JavaTarget) -> None:
    data = await scrape(edge_target.endpoint, target_system="jvm", target_source="legacy")
    assert set(data) >= LEGACY_JVM and not SEMCONV_JVM & set(data)
    direct = testbed.jmx_dump(edge_target.service_url, "java.lang:*")
    heap = direct[("java.lang:type=Memory", "HeapMemoryUsage")]
    for item in ("max", "init"):
        metric, point = data[f"jvm.memory.heap.{item}"][0]
        assert point.value == composite_item(heap, item) and metric.unit == "by" and metric.description
    pools = {name.split("name=")[1].split(",")[0] for name, attr in direct if "type=MemoryPool" in name}
    assert {dict(p.attributes)["name"] for _, p in data["jvm.memory.pool.used"]} == pools
    gc_metric, gc_point = data["jvm.gc.collections.count"][0]
    assert gc_metric.data.is_monotonic and set(dict(gc_point.attributes)) == {"name"}
    _, threads = data["jvm.threads.count"][0]
    assert threads.value >= 1 and type(data["jvm.threads.count"][0][0].data).__name__ == "Gauge"
    _, classes = data["jvm.classes.loaded"][0]
    loaded = int(direct[("java.lang:type=ClassLoading", "LoadedClassCount")])
    assert 0 < classes.value <= loaded  # read first; serving JMX loads more classes in the target meanwhile


@pytest.mark.parametrize("source", ["instrumentation", "auto"])
async def test_jvm_preset_semantic_convention_names_on_a_real_jvm(edge_target: testbed.JavaTarget, source: str) -> None:
    data = await scrape(edge_target.endpoint, target_system="jvm", target_source=source)
    assert set(data) >= SEMCONV_JVM and not LEGACY_JVM & set(data)
    direct = testbed.jmx_dump(edge_target.service_url, "java.lang:type=MemoryPool,*")
    limits = {
        name.split("name=")[1].split(",")[0]: composite_item(text, "max")
        for (name, attribute), text in direct.items()
        if attribute == "Usage"
    }
    reported = {dict(p.attributes)["jvm.memory.pool.name"]: p.value for _, p in data["jvm.memory.limit"]}
    assert reported == {pool: limit for pool, limit in limits.items() if limit != -1}
    assert all(metric.description for points in data.values() for metric, _ in points)


KAFKA_BEANS = {
    # broker (Yammer meters: Count; gauges: Value; histograms: percentiles, Mean)
    "kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec": "Count,OneMinuteRate",
    "kafka.server:type=BrokerTopicMetrics,name=TotalProduceRequestsPerSec": "Count",
    "kafka.server:type=BrokerTopicMetrics,name=TotalFetchRequestsPerSec": "Count",
    "kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec": "Count",
    "kafka.network:type=RequestMetrics,name=TotalTimeMs,request=Produce": "Count,Mean,50thPercentile,99thPercentile",
    "kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions": "Value",
    "kafka.server:type=DelayedOperationPurgatory,name=PurgatorySize,delayedOperation=Fetch": "Value",
    "kafka.controller:type=KafkaController,name=ActiveControllerCount": "Value",
    # clients
    "kafka.consumer:type=consumer-fetch-manager-metrics,client-id=c1": "fetch-rate,records-lag-max,bytes-consumed-rate",
    "kafka.consumer:type=consumer-fetch-manager-metrics,client-id=c1,topic=orders": "records-consumed-rate",
    "kafka.producer:type=producer-metrics,client-id=p1": "request-rate,io-wait-time-ns-avg",
    "kafka.producer:type=producer-topic-metrics,client-id=p1,topic=orders": "record-send-rate",
}


async def test_kafka_presets_on_kafka_shaped_mbeans() -> None:
    with testbed.shaped_target(KAFKA_BEANS) as target:
        data = await scrape(target.endpoint, target_system="kafka,kafka-consumer,kafka-producer")
    messages_metric, messages = data["kafka.message.count"][0]
    assert messages_metric.data.is_monotonic and messages_metric.unit == "{messages}" and messages.value >= 0
    requests = {dict(p.attributes)["type"] for _, p in data["kafka.request.count"]}
    assert requests == {"produce", "fetch"}
    assert dict(data["kafka.network.io"][0][1].attributes) == {"state": "in"}
    p50_metric, p50 = data["kafka.request.time.50p"][0]
    assert dict(p50.attributes) == {"type": "produce"} and p50_metric.unit == "ms"
    assert p50.value >= 2000  # the third attribute of its MBean in the target: 2 * 1000 + reads
    assert dict(data["kafka.purgatory.size"][0][1].attributes) == {"type": "fetch"}
    assert {"kafka.partition.under_replicated", "kafka.controller.active.count"} <= set(data)
    assert dict(data["kafka.consumer.fetch-rate"][0][1].attributes) == {"client-id": "c1"}
    assert "kafka.consumer.total.bytes-consumed-rate" in data
    assert dict(data["kafka.consumer.records-consumed-rate"][0][1].attributes) == {"client-id": "c1", "topic": "orders"}
    assert dict(data["kafka.producer.record-send-rate"][0][1].attributes) == {"client-id": "p1", "topic": "orders"}
    assert data["kafka.producer.io-wait-time-ns-avg"][0][0].unit == "ns"
    assert all(metric.description for points in data.values() for metric, _ in points)


async def test_jmx_configs_rule_files_beside_inline_rules(edge_target: testbed.JavaTarget, tmp_path: Path) -> None:
    first, second = tmp_path / "threads.yaml", tmp_path / "classes.yaml"
    first.write_text(
        "rules:\n  - bean: java.lang:type=Threading\n    mapping:\n"
        "      ThreadCount: {metric: my.threads, type: gauge, desc: Threads.}\n"
    )
    second.write_text(
        "rules:\n  - bean: java.lang:type=ClassLoading\n    mapping:\n      LoadedClassCount: {metric: my.classes}\n"
    )
    inline = [{"bean": "java.lang:type=Runtime", "mapping": {"Uptime": {"metric": "my.uptime", "unit": "ms"}}}]
    data = await scrape(edge_target.endpoint, jmx_configs=f"{first}, {second}", rules=inline)
    assert {"my.threads", "my.classes", "my.uptime", "jmx.up"} == set(data)
    assert data["my.threads"][0][0].description == "Threads."


def test_a_rule_file_may_redefine_an_anchor(tmp_path: Path) -> None:
    """Read by the config's own YAML loader: a redefined anchor is valid YAML, the later one wins."""
    rules = tmp_path / "anchors.yaml"
    rules.write_text(
        "rules:\n"
        "  - {bean: a:type=A, mapping: &m {X: {metric: a.x}}}\n"
        "  - {bean: b:type=B, mapping: &m {Y: {metric: b.y}}}\n"
        "  - {bean: c:type=C, mapping: *m}\n"
    )
    config = JmxConfig.model_validate({"endpoint": "h:1", "jmx_configs": str(rules)})
    assert list(config.all_rules()[2].mapping) == ["Y"]


def test_a_bad_rule_file_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - bean: nodomain\n    mapping: {A: }\n")
    message = f"jmx_configs: {bad} is not a jmx-metrics rule file: rules.0: 'nodomain' is not an ObjectName pattern"
    with pytest.raises(ValueError, match=re.escape(message)):
        JmxConfig.model_validate({"endpoint": "h:1", "jmx_configs": str(bad)})


def test_password_file_and_log_level(tmp_path: Path) -> None:
    secret = tmp_path / "jmx.password"
    secret.write_text("s3cret\n")
    config = JmxConfig.model_validate(
        {"endpoint": "h:1", "target_system": "jvm", "password_file": str(secret), "log_level": "WARN"}
    )
    assert config.password.get_secret_value() == "s3cret" and "s3cret" not in repr(config)
    assert config.log_level == "warn"

    records: list[logging.LogRecord] = []
    base = logging.getLogger("receivers.jmx.test.level")
    base.setLevel(logging.DEBUG)
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign,assignment]  # a handler that only keeps its records
    base.addHandler(handler)
    try:
        logger = LevelLogger(ComponentLogger(base, {"component": "jmx/x"}), "warn")
        logger.info("hidden")
        logger.warning("shown", extra={"endpoint": "h:1"})
        LevelLogger(ComponentLogger(base, {}), "off").error("hidden too")
    finally:
        base.removeHandler(handler)
    assert [(r.getMessage(), r.endpoint, r.component) for r in records] == [("shown", "h:1", "jmx/x")]  # type: ignore[attr-defined]  # from extra=
