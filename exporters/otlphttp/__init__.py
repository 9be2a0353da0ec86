"""`otlphttp` exporter: OTLP over HTTP/protobuf, one POST per export; the sending queue retries."""

from exporters.otlphttp.exporter import OTLPHTTPConfig, OTLPHTTPExporter, factory

__all__ = ["OTLPHTTPConfig", "OTLPHTTPExporter", "factory"]
