"""`jmx` receiver: MBeans of one JVM or a fleet of them (Debezium, Kafka Connect, the JVM itself) as OTel
metrics."""

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

__all__ = ["JmxConfig", "JmxReceiver", "factory"]
