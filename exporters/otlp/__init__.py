"""`otlp` exporter: OTLP over gRPC (grpc.aio), one attempt per export; the sending queue retries."""

from exporters.otlp.config import OTLPGrpcConfig
from exporters.otlp.factory import factory

__all__ = ["OTLPGrpcConfig", "factory"]
