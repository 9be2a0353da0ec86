"""`otlp` receiver: OTLP metrics pushed over gRPC or HTTP (gateway mode)."""

from receivers.otlp.config import OTLPReceiverConfig
from receivers.otlp.factory import factory

__all__ = ["OTLPReceiverConfig", "factory"]
