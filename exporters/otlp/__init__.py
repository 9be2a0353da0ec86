"""`otlp` exporter: OTLP over gRPC (grpc.aio), one attempt per export; the sending queue retries."""

from exporters.otlp.exporter import OTLPGrpcConfig, OTLPGrpcExporter, factory

__all__ = ["OTLPGrpcConfig", "OTLPGrpcExporter", "factory"]
