"""`jmx` receiver: MBeans of one JVM or a fleet of them (Debezium, Kafka Connect, the JVM itself) as OTel
metrics."""

from receivers.jmx.config import JmxConfig
from receivers.jmx.factory import factory

__all__ = ["JmxConfig", "factory"]
