"""`otlp` receiver: OTLP metrics pushed over gRPC or HTTP (gateway mode)."""

from receivers.otlp.config import OTLPReceiverConfig
from receivers.otlp.receiver import OTLPReceiver, factory

__all__ = ["OTLPReceiver", "OTLPReceiverConfig", "factory"]
