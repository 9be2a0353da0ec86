"""The `jmx` receiver: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from receivers.jmx.config import JmxConfig
from receivers.jmx.receiver import JmxReceiver

factory = Factory(
    type="jmx",
    kind=Kind.RECEIVER,
    config_model=JmxConfig,
    create=JmxReceiver,
    stability=Stability.ALPHA,
    description="Scrapes MBeans of one JVM or many (endpoints, sharded) over JMX through one shared hardened py4j "
    "gateway JVM (presets: debezium-mysql, kafka-connect, jvm; or jmx-metrics YAML rules).",
)
