"""The `otlp` receiver: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import ReceiverFactory, Stability
from receivers.otlp.config import OTLPReceiverConfig
from receivers.otlp.receiver import OTLPReceiver

factory = ReceiverFactory(
    type="otlp",
    config_model=OTLPReceiverConfig,
    create=OTLPReceiver,
    stability=Stability.BETA,
    description="OTLP metrics over gRPC (4317) and HTTP protobuf/JSON (4318), loopback by default.",
)
