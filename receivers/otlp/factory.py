"""The `otlp` receiver: the factory its entry point names (type, config model, stability)."""

from __future__ import annotations

from collector.component import Factory, Kind, Stability
from receivers.otlp.config import OTLPReceiverConfig
from receivers.otlp.receiver import OTLPReceiver

factory = Factory(
    type="otlp",
    kind=Kind.RECEIVER,
    config_model=OTLPReceiverConfig,
    create=OTLPReceiver,
    stability=Stability.BETA,
    description="OTLP metrics over gRPC (4317) and HTTP protobuf/JSON (4318), loopback by default.",
)
