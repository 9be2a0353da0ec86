"""The `jmx` receiver: the factory its entry point names (type, config model, stability), and the receiver
class of the config's mode."""

from __future__ import annotations

from typing import Any

from collector.component import Consumer, CreateSettings, ReceiverFactory, Stability
from receivers.jmx.config import JmxConfig
from receivers.jmx.receiver import EndpointsReceiver, JmxReceiver, ListenReceiver, SingleTargetReceiver


def create_receiver(settings: CreateSettings, config: JmxConfig, consumer: Consumer) -> JmxReceiver[Any]:
    """`listen`: the workers that dial in; `endpoints`: the listed ones; else the one `endpoint`."""
    if config.listen is not None:
        return ListenReceiver(settings, config, consumer)
    if config.endpoints is not None:
        return EndpointsReceiver(settings, config, consumer)
    return SingleTargetReceiver(settings, config, consumer)


factory = ReceiverFactory(
    type="jmx",
    config_model=JmxConfig,
    create=create_receiver,
    stability=Stability.ALPHA,
    description="Scrapes MBeans of one JVM or many (endpoints, sharded) over JMX through one shared hardened py4j "
    "gateway JVM (presets: debezium-mysql, kafka-connect, jvm; or jmx-metrics YAML rules).",
)
