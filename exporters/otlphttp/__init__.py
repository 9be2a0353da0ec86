"""`otlphttp` exporter: OTLP over HTTP/protobuf, one POST per export; the sending queue retries."""

from exporters.otlphttp.config import OTLPHTTPConfig
from exporters.otlphttp.factory import factory

__all__ = ["OTLPHTTPConfig", "factory"]
